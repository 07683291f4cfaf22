// The loopback ClearKey licence server: grants known kids, refuses unknown ones and malformed
// bodies, adds our expiration convention, answers CORS preflights, can refuse and be stopped.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {startClearKeyServer, EXPIRATION_HEADER} from './clearkey-server.mjs';
import {kid, key, KEYS} from '../content/encrypted-keys.mjs';

let lic;
before(async () => {
  lic = await startClearKeyServer({keys: KEYS});
});
after(async () => {
  await lic?.stop();
});

const post = (body, headers = {'Content-Type': 'application/json'}) =>
  fetch(lic.licenseUrl, {method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body)});

test('the test key constants agree with each other', () => {
  assert.equal(kid.hex.length, 32);
  assert.equal(Buffer.from(kid.base64url, 'base64url').toString('hex'), kid.hex);
  assert.equal(Buffer.from(key.base64url, 'base64url').toString('hex'), key.hex);
  assert.equal(kid.uuid.replaceAll('-', ''), kid.hex);
  assert.ok(!kid.base64url.includes('='), 'base64url without padding');
});

test('a temporary licence request for the test kid gets the key as a JWK set', async () => {
  lic.resetLog();
  const res = await post({kids: [kid.base64url], type: 'temporary'});
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.headers.get(EXPIRATION_HEADER), null, 'no duration configured: no expiration');
  assert.deepEqual(await res.json(), {keys: [{kty: 'oct', kid: kid.base64url, k: key.base64url}], type: 'temporary'});
  assert.equal(lic.requests.length, 1);
  const r = lic.requests[0];
  assert.equal(r.method, 'POST');
  assert.deepEqual(r.kids, [kid.base64url]);
  assert.equal(r.type, 'temporary');
  assert.equal(r.status, 200);
});

test('persistent-license requests, padded kids and a missing type are accepted', async () => {
  const padded = Buffer.from(kid.hex, 'hex').toString('base64').replaceAll('+', '-').replaceAll('/', '_');
  const res = await post({kids: [padded], type: 'persistent-license'});
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {keys: [{kty: 'oct', kid: kid.base64url, k: key.base64url}], type: 'persistent-license'});
  const untyped = await post({kids: [kid.base64url]});
  assert.equal((await untyped.json()).type, 'temporary');
});

test('unknown kids get 403 with a JSON error; known ones among them are granted', async () => {
  const other = crypto.randomBytes(16).toString('base64url');
  const res = await post({kids: [other], type: 'temporary'});
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(await res.json(), {error: 'unknown-kids', kids: [other]});
  const mixed = await post({kids: [other, kid.base64url]});
  assert.equal(mixed.status, 200);
  assert.deepEqual(
    (await mixed.json()).keys.map((k) => k.kid),
    [kid.base64url],
  );
});

test('malformed bodies get 400 with a JSON error', async () => {
  for (const body of [
    'not json',
    '[]',
    '{}',
    '{"kids": []}',
    '{"kids": ["!!"]}',
    '{"kids": ["AAAA"]}',
    JSON.stringify({kids: [kid.base64url], type: 'forever'}),
  ]) {
    const res = await post(body);
    assert.equal(res.status, 400, body);
    const json = await res.json();
    assert.equal(json.error, 'malformed-request', body);
    assert.equal(typeof json.message, 'string');
  }
  assert.equal((await fetch(lic.licenseUrl)).status, 405);
  assert.equal((await fetch(`${lic.url}/elsewhere`, {method: 'POST', body: '{}'})).status, 404);
});

test('CORS preflight for application/json is allowed', async () => {
  const res = await fetch(lic.licenseUrl, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://127.0.0.1:1',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-methods'), /POST/);
  assert.match(res.headers.get('access-control-allow-headers'), /content-type/i);
});

test('a licence duration adds expiration to the JSON and the X-License-Expiration header', async () => {
  lic.setDurationMs(60_000);
  try {
    const before = Date.now();
    const res = await post({kids: [kid.base64url], type: 'temporary'});
    const json = await res.json();
    assert.equal(res.status, 200);
    assert.ok(json.expiration >= before + 60_000 && json.expiration <= Date.now() + 60_000, String(json.expiration));
    assert.equal(res.headers.get(EXPIRATION_HEADER), String(json.expiration));
    assert.match(res.headers.get('access-control-expose-headers'), /X-License-Expiration/i);
    assert.equal(lic.requests.at(-1).expiration, json.expiration);
  } finally {
    lic.setDurationMs(null);
  }
  const own = await startClearKeyServer({keys: KEYS, durationMs: 5000});
  try {
    const res = await fetch(own.licenseUrl, {method: 'POST', body: JSON.stringify({kids: [kid.base64url]})});
    assert.ok(Number(res.headers.get(EXPIRATION_HEADER)) > Date.now());
  } finally {
    await own.stop();
  }
});

test('setRefusing makes every request fail until turned off', async () => {
  lic.setRefusing(true);
  try {
    const res = await post({kids: [kid.base64url], type: 'temporary'});
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error, 'refused');
    lic.setRefusing(503);
    assert.equal((await post({kids: [kid.base64url]})).status, 503);
    assert.equal(lic.requests.at(-1).status, 503);
  } finally {
    lic.setRefusing(false);
  }
  assert.equal((await post({kids: [kid.base64url]})).status, 200);
});

test('after stop() nothing answers, and a new server can take the same port', async () => {
  const own = await startClearKeyServer({keys: KEYS});
  const {port, licenseUrl} = own;
  assert.equal((await fetch(licenseUrl, {method: 'POST', body: JSON.stringify({kids: [kid.base64url]})})).status, 200);
  await own.stop();
  await assert.rejects(fetch(licenseUrl, {method: 'POST', body: '{}'}));
  const again = await startClearKeyServer({keys: KEYS, port});
  try {
    assert.equal(again.licenseUrl, licenseUrl);
    assert.equal((await fetch(licenseUrl, {method: 'POST', body: JSON.stringify({kids: [kid.base64url]})})).status, 200);
  } finally {
    await again.stop();
  }
});
