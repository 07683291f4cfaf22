// Tests of the media server (media-server.mjs): static content, Range, CORS, the request log,
// stop(). Run: node --test tests/server/
//
// Static tests use a tiny temporary tree with known bytes; the last ones use the real generated
// content (tests/content/make-content.sh is run when it is missing).

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import {startMediaServer} from './media-server.mjs';
import {CONTENT_DIR, connectionRefused, ensureRealContent, halfSentRequest, makeTinyTree, rawRequest} from './helpers.mjs';

describe('media server: static content', () => {
  let tree;
  let media;
  before(async () => {
    tree = makeTinyTree();
    media = await startMediaServer({contentDir: tree.content});
  });
  after(async () => {
    await media.stop();
    fs.rmSync(tree.top, {recursive: true, force: true});
  });

  test('a whole file is 200 with length, type and Accept-Ranges', async () => {
    const res = await fetch(`${media.url}/content/sub/x.mpd`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/dash+xml');
    assert.equal(res.headers.get('content-length'), '20');
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    assert.equal(await res.text(), '<MPD type="static"/>');
  });

  test('a closed range is 206 with Content-Range and exactly those bytes', async () => {
    const res = await fetch(`${media.url}/content/bytes.bin`, {headers: {Range: 'bytes=10-19'}});
    assert.equal(res.status, 206);
    assert.equal(res.headers.get('content-range'), 'bytes 10-19/100');
    assert.equal(res.headers.get('content-length'), '10');
    assert.deepEqual(
      [...new Uint8Array(await res.arrayBuffer())],
      [...Array(10).keys()].map((i) => i + 10),
    );
  });

  test('a range past the end is clamped; open and suffix ranges work', async () => {
    const cases = [
      ['bytes=95-1000', 'bytes 95-99/100', 95],
      ['bytes=97-', 'bytes 97-99/100', 97],
      ['bytes=-2', 'bytes 98-99/100', 98],
    ];
    for (const [range, contentRange, first] of cases) {
      const res = await fetch(`${media.url}/content/bytes.bin`, {headers: {Range: range}});
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), contentRange);
      assert.equal(new Uint8Array(await res.arrayBuffer())[0], first);
    }
  });

  test('an unsatisfiable range is 416 with Content-Range bytes */size', async () => {
    for (const range of ['bytes=100-', 'bytes=-0']) {
      const res = await fetch(`${media.url}/content/bytes.bin`, {headers: {Range: range}});
      assert.equal(res.status, 416, range);
      assert.equal(res.headers.get('content-range'), 'bytes */100');
      await res.arrayBuffer();
    }
    const empty = await fetch(`${media.url}/content/empty.m4s`, {headers: {Range: 'bytes=0-'}});
    assert.equal(empty.status, 416);
    assert.equal(empty.headers.get('content-range'), 'bytes */0');
  });

  test('a malformed Range header is ignored: 200 with the whole file', async () => {
    for (const range of ['bytes=abc', 'bytes=9-3', 'bytes=0-1,4-5']) {
      const res = await fetch(`${media.url}/content/bytes.bin`, {headers: {Range: range}});
      assert.equal(res.status, 200, range);
      assert.equal((await res.arrayBuffer()).byteLength, 100);
    }
  });

  test('HEAD answers the headers without a body', async () => {
    const res = await rawRequest(media.url, '/content/bytes.bin', {method: 'HEAD', headers: {Range: 'bytes=0-9'}});
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-length'], '10');
    assert.equal(res.body.length, 0);
  });

  test('path traversal is refused, also when percent-encoded', async () => {
    for (const p of [
      '/content/../secret.txt',
      '/content/%2e%2e/secret.txt',
      '/content/sub/..%2f..%2fsecret.txt',
      '/content/sub%5c..%5c..%5csecret.txt',
      '/content/%zz',
    ]) {
      const res = await rawRequest(media.url, p);
      assert.ok([400, 404].includes(res.status), `${p} -> ${res.status}`);
      assert.notEqual(res.body.toString(), 'secret');
    }
  });

  test('a missing file is 404 and still carries CORS headers', async () => {
    const res = await fetch(`${media.url}/content/nope.m4s`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('every answer carries CORS headers exposing the range headers', async () => {
    const res = await fetch(`${media.url}/content/bytes.bin`, {headers: {Range: 'bytes=0-0'}});
    await res.arrayBuffer();
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-expose-headers'), 'Content-Length, Content-Range, Accept-Ranges');
  });

  test('a CORS preflight is 204 and echoes the requested headers', async () => {
    const res = await fetch(`${media.url}/content/bytes.bin`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://127.0.0.1:1',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range,x-custom',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, POST, OPTIONS');
    assert.equal(res.headers.get('access-control-allow-headers'), 'range,x-custom');
    assert.equal(res.headers.get('access-control-max-age'), '600');
    const noList = await fetch(`${media.url}/api_v3/service/multirequest`, {method: 'OPTIONS'});
    assert.equal(noList.headers.get('access-control-allow-headers'), '*');
  });

  test('the request log records method, url and range, and can be reset', async () => {
    media.resetLog();
    await (await fetch(`${media.url}/content/bytes.bin?x=1`, {headers: {Range: 'bytes=1-2'}})).arrayBuffer();
    assert.deepEqual(media.requests, [{method: 'GET', url: '/content/bytes.bin?x=1', range: 'bytes=1-2'}]);
    media.resetLog();
    assert.equal(media.requests.length, 0);
  });
});

describe('media server: the generated content', () => {
  let media;
  before(async () => {
    ensureRealContent();
    media = await startMediaServer({contentDir: CONTENT_DIR});
  });
  after(() => media.stop());

  test('the generated content is served with media types', async () => {
    const cases = [
      ['/content/template/manifest.mpd', 'application/dash+xml'],
      ['/content/timeline/init-stream0.m4s', 'video/iso.segment'],
      ['/content/poster.jpg', 'image/jpeg'],
    ];
    for (const [p, type] of cases) {
      const res = await fetch(`${media.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-type'), type);
      await res.arrayBuffer();
    }
  });
});

describe('stop()', () => {
  test('media server: closes keep-alive connections and the port refuses afterwards', async () => {
    const tree = makeTinyTree();
    const media = await startMediaServer({contentDir: tree.content});
    const agent = new http.Agent({keepAlive: true});
    const res = await rawRequest(media.url, '/content/bytes.bin', {agent});
    assert.equal(res.status, 200);
    // A connection in the middle of a request is not idle: server.close() alone would wait.
    const busy = await halfSentRequest(media.port);
    const started = Date.now();
    await media.stop();
    assert.ok(Date.now() - started < 1000, 'stop() waited for open connections');
    await busy.closed;
    assert.equal(await connectionRefused(media.port), true);
    await media.stop(); // idempotent
    agent.destroy();
    fs.rmSync(tree.top, {recursive: true, force: true});
  });
});
