// Tests of the fixture media server (static content, Range, CORS, Kaltura OVP and OTT
// emulators) and the app server. Run: node --test tests/server/
//
// Static tests use a tiny temporary tree with known bytes; the Kaltura/playManifest tests use
// the real generated content (tests/content/make-content.sh is run when it is missing).

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {DEFAULT_OTT_ASSETS, OTT_SERVICE_PATH, parseRange, resolveReferences, startMediaServer}
  from './fixture-server.mjs';
import {startAppServer} from './app-server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONTENT_DIR = process.env.CONTENT_DIR || path.join(REPO, 'tests', '.content');

/** 100 known bytes 0..99, a nested MPD, and a "secret" next to (outside) the content dir. */
function makeTinyTree() {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'fixture-server-'));
  const content = path.join(top, 'content');
  fs.mkdirSync(path.join(content, 'sub'), {recursive: true});
  fs.writeFileSync(path.join(content, 'bytes.bin'), Buffer.from([...Array(100).keys()]));
  fs.writeFileSync(path.join(content, 'empty.m4s'), Buffer.alloc(0));
  fs.writeFileSync(path.join(content, 'sub', 'x.mpd'), '<MPD type="static"/>');
  fs.writeFileSync(path.join(top, 'secret.txt'), 'secret');
  return {top, content};
}

/** Ensures the real ffmpeg content exists (fast no-op when it does). */
function ensureRealContent() {
  const script = path.join(REPO, 'tests', 'content', 'make-content.sh');
  execFileSync('bash', [script], {env: {...process.env, CONTENT_DIR}, stdio: 'pipe'});
}

/** A raw HTTP request: the path is sent exactly as given (no URL normalisation). */
function rawRequest(baseUrl, rawPath, {method = 'GET', headers = {}, agent = false} = {}) {
  const {hostname, port} = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({hostname, port, path: rawPath, method, headers, agent}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks)}));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves true when a TCP connection to the port is refused. */
function connectionRefused(port) {
  return new Promise((resolve) => {
    const socket = net.connect({port, host: '127.0.0.1'});
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Opens a connection and sends only part of a request; `closed` resolves when the server drops it. */
async function halfSentRequest(port) {
  const socket = net.connect({port, host: '127.0.0.1'});
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('GET /content/bytes.bin HTTP/1.1\r\nHost: x\r\n');
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  return {closed};
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body),
  });
  return {res, json: await res.json()};
}

/** The request the Kaltura OVP provider sends for getMediaConfig({entryId}) without a ks. */
function providerRequest(entryId) {
  const ref = '{2:result:objects:0:id}';
  return {
    apiVersion: '3.3.0',
    format: 1,
    ks: '',
    clientTag: 'html5:v3.17.95',
    partnerId: 1234,
    1: {service: 'session', action: 'startWidgetSession', widgetId: '_1234'},
    2: {service: 'baseEntry', action: 'list', ks: '{1:result:ks}',
      filter: {redirectFromEntryId: entryId}, responseProfile: {type: 1, fields: 'id,name'}},
    3: {service: 'baseEntry', action: 'getPlaybackContext', ks: '{1:result:ks}', entryId: ref,
      contextDataParams: {objectType: 'KalturaContextDataParams', flavorTags: 'all'}},
    4: {service: 'metadata_metadata', action: 'list', ks: '{1:result:ks}',
      filter: {objectType: 'KalturaMetadataFilter', objectIdEqual: ref,
        metadataObjectTypeEqual: '1'}},
  };
}

describe('parseRange follows RFC 9110', () => {
  test('closed, open and suffix ranges; end clamped to the size', () => {
    assert.deepEqual(parseRange('bytes=10-19', 100), {start: 10, end: 19});
    assert.deepEqual(parseRange('bytes=90-500', 100), {start: 90, end: 99});
    assert.deepEqual(parseRange('bytes=50-', 100), {start: 50, end: 99});
    assert.deepEqual(parseRange('bytes=-10', 100), {start: 90, end: 99});
    assert.deepEqual(parseRange('bytes=-500', 100), {start: 0, end: 99});
  });

  test('unsatisfiable ranges and malformed headers are told apart', () => {
    assert.deepEqual(parseRange('bytes=100-', 100), {unsatisfiable: true});
    assert.deepEqual(parseRange('bytes=-0', 100), {unsatisfiable: true});
    for (const bad of ['bytes=abc', 'bytes=5-2', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-', '']) {
      assert.equal(parseRange(bad, 100), null, bad);
    }
    assert.equal(parseRange(undefined, 100), null);
  });
});

describe('multirequest references', () => {
  test('{N:result:path} tokens are replaced by walking into result N (1-based)', () => {
    const results = [{ks: 'KS1'}, {objects: [{id: '0_abc', n: 3}]}];
    const item = {ks: '{1:result:ks}', entryId: '{2:result:objects:0:id}',
      nested: {list: ['{2:result:objects:0:n}', 'id={2:result:objects:0:id}']}};
    assert.deepEqual(resolveReferences(item, results),
      {ks: 'KS1', entryId: '0_abc', nested: {list: [3, 'id=0_abc']}});
  });

  test('an unresolvable token is left as is', () => {
    assert.equal(resolveReferences('{2:result:objects:0:id}', [{}, {objects: []}]),
      '{2:result:objects:0:id}');
  });
});

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
    assert.deepEqual([...new Uint8Array(await res.arrayBuffer())], [...Array(10).keys()].map((i) => i + 10));
  });

  test('a range past the end is clamped; open and suffix ranges work', async () => {
    const cases = [['bytes=95-1000', 'bytes 95-99/100', 95], ['bytes=97-', 'bytes 97-99/100', 97],
      ['bytes=-2', 'bytes 98-99/100', 98]];
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
    const res = await rawRequest(media.url, '/content/bytes.bin', {method: 'HEAD',
      headers: {Range: 'bytes=0-9'}});
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-length'], '10');
    assert.equal(res.body.length, 0);
  });

  test('path traversal is refused, also when percent-encoded', async () => {
    for (const p of ['/content/../secret.txt', '/content/%2e%2e/secret.txt',
      '/content/sub/..%2f..%2fsecret.txt', '/content/sub%5c..%5c..%5csecret.txt',
      '/content/%zz']) {
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
    assert.equal(res.headers.get('access-control-expose-headers'),
      'Content-Length, Content-Range, Accept-Ranges');
  });

  test('a CORS preflight is 204 and echoes the requested headers', async () => {
    const res = await fetch(`${media.url}/content/bytes.bin`, {method: 'OPTIONS', headers: {
      Origin: 'http://127.0.0.1:1', 'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'range,x-custom'}});
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
    await (await fetch(`${media.url}/content/bytes.bin?x=1`, {headers: {Range: 'bytes=1-2'}}))
      .arrayBuffer();
    assert.deepEqual(media.requests, [{method: 'GET', url: '/content/bytes.bin?x=1',
      range: 'bytes=1-2'}]);
    media.resetLog();
    assert.equal(media.requests.length, 0);
  });
});

describe('media server: Kaltura OVP emulator on the generated content', () => {
  let media;
  before(async () => {
    ensureRealContent();
    media = await startMediaServer({contentDir: CONTENT_DIR});
  });
  after(() => media.stop());

  test('the provider multirequest resolves {N:result:...} references item by item', async () => {
    const {res, json} = await postJson(`${media.url}/api_v3/service/multirequest`,
      providerRequest('0_template'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.ok(Array.isArray(json) && json.length === 4);
    const [session, list, context, metadata] = json;
    assert.equal(session.objectType, 'KalturaStartWidgetSessionResponse');
    assert.ok(session.ks.length > 0);
    assert.equal(list.totalCount, 1);
    assert.deepEqual(
      {id: list.objects[0].id, name: list.objects[0].name, duration: list.objects[0].duration},
      {id: '0_template', name: 'Template sample', duration: 12});
    assert.equal(list.objects[0].thumbnailUrl, `${media.url}/content/poster.jpg`);
    assert.equal(context.objectType, 'KalturaPlaybackContext');
    assert.equal(context.sources[0].format, 'mpegdash');
    assert.equal(context.sources[0].flavorIds,
      context.flavorAssets.map((f) => f.id).join(','));
    assert.deepEqual(metadata, {objectType: 'KalturaMetadataListResponse', totalCount: 0,
      objects: []});
  });

  test('an unknown entry: empty list, then KalturaAPIException ENTRY_ID_NOT_FOUND', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest?format=1`,
      providerRequest('0_missing'));
    assert.equal(json[1].totalCount, 0);
    assert.equal(json[2].objectType, 'KalturaAPIException');
    assert.equal(json[2].code, 'ENTRY_ID_NOT_FOUND');
    const direct = await postJson(`${media.url}/api_v3/service/multirequest/`, {
      1: {service: 'baseEntry', action: 'getPlaybackContext', entryId: '0_nope'}});
    assert.deepEqual(direct.json[0], {objectType: 'KalturaAPIException',
      code: 'ENTRY_ID_NOT_FOUND', message: 'Entry id "0_nope" not found',
      args: {ENTRY_ID: '0_nope'}});
  });

  test('an unknown service or action is a SERVICE_FORBIDDEN exception', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, {
      1: {service: 'flavorAsset', action: 'delete', id: '1'}});
    assert.equal(json[0].objectType, 'KalturaAPIException');
    assert.equal(json[0].code, 'SERVICE_FORBIDDEN');
  });

  test('baseEntry.list honours idIn', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, {
      1: {service: 'baseEntry', action: 'list', filter: {idIn: '0_timeline,0_x,0_template'}}});
    assert.deepEqual(json[0].objects.map((o) => o.id), ['0_timeline', '0_template']);
  });

  test('playManifest redirects (302, absolute, CORS) to the stream MPD', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, {
      1: {service: 'baseEntry', action: 'getPlaybackContext', entryId: '0_timeline'}});
    const sourceUrl = json[0].sources[0].url;
    assert.match(sourceUrl, /\/p\/1234\/sp\/123400\/playManifest\/entryId\/0_timeline\//);
    const res = await fetch(sourceUrl, {redirect: 'manual'});
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${media.url}/content/timeline/manifest.mpd`);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');

    // The form the provider builds itself, with a ks and a query string; followed this time.
    const built = `${media.url}/p/1234/sp/123400/playManifest/entryId/0_template/protocol/http` +
      '/format/mpegdash/flavorIds/a,b/ks/KS/a.mpd?playSessionId=x&referrer=y';
    const mpd = await fetch(built);
    assert.equal(mpd.status, 200);
    assert.equal(mpd.url, `${media.url}/content/template/manifest.mpd`);
    assert.match(await mpd.text(), /type="static"/);

    const unknown = await fetch(built.replace('0_template', '0_none'), {redirect: 'manual'});
    assert.equal(unknown.status, 404);
  });

  test('the generated content is served with media types', async () => {
    const cases = [['/content/template/manifest.mpd', 'application/dash+xml'],
      ['/content/timeline/init-stream0.m4s', 'video/iso.segment'],
      ['/content/poster.jpg', 'image/jpeg']];
    for (const [p, type] of cases) {
      const res = await fetch(`${media.url}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get('content-type'), type);
      await res.arrayBuffer();
    }
  });
});

/** The request the Kaltura OTT provider (TV build) sends for getMediaConfig({entryId}) without a ks. */
function ottProviderRequest(assetId, partnerId = 3009) {
  return {
    1: {service: 'ottuser', action: 'anonymousLogin', partnerId},
    2: {service: 'asset', action: 'get', id: assetId, assetReferenceType: 'media',
      ks: '{1:result:ks}'},
    3: {service: 'asset', action: 'getPlaybackContext', assetId, assetType: 'media',
      contextDataParams: {objectType: 'KalturaPlaybackContextOptions', context: 'PLAYBACK'},
      ks: '{1:result:ks}'},
    apiVersion: '7.8.1',
    partnerId,
  };
}

describe('media server: Kaltura OTT (Phoenix) emulator on the generated content', () => {
  let media;
  let ott;
  before(async () => {
    ensureRealContent();
    media = await startMediaServer({contentDir: CONTENT_DIR});
    ott = `${media.url}${OTT_SERVICE_PATH}`;
  });
  after(() => media.stop());

  test('the default assets are the five streams under numeric ids', () => {
    assert.equal(OTT_SERVICE_PATH, '/ott/api_v3');
    assert.deepEqual(Object.entries(DEFAULT_OTT_ASSETS).map(([id, a]) => [id, a.manifest]), [
      ['1001', 'template/manifest.mpd'], ['1002', 'timeline/manifest.mpd'],
      ['1003', 'list/manifest.mpd'], ['1004', 'base/manifest.mpd'], ['1005', 'encrypted/manifest.mpd']]);
  });

  test('the provider multirequest answers {executionTime, result: [...]} with references resolved', async () => {
    const {res, json} = await postJson(`${ott}/service/multirequest`, ottProviderRequest('1002'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(typeof json.executionTime, 'number');
    assert.ok(Array.isArray(json.result) && json.result.length === 3);
    const [login, asset, context] = json.result;
    assert.equal(login.objectType, 'KalturaLoginSession');
    assert.ok(login.ks.length > 0);
    assert.equal(asset.objectType, 'KalturaMediaAsset');
    assert.equal(asset.id, 1002);
    assert.equal(asset.name, 'Timeline sample');
    assert.deepEqual([asset.metas, asset.tags], [{}, {}]);
    assert.equal(asset.images[0].url, `${media.url}/content/poster.jpg`);
    assert.equal(context.objectType, 'KalturaPlaybackContext');
    assert.deepEqual([context.actions, context.messages, context.plugins], [[], [], []]);
    const [source] = context.sources;
    assert.deepEqual(
      {id: source.id, type: source.type, format: source.format, duration: source.duration,
        drm: source.drm},
      {id: 10021, type: 'DASH_Main', format: 'mpegdash', duration: 12, drm: []});
    assert.equal(source.url, `${ott}/service/assetFile/action/playManifest/partnerId/3009` +
      '/assetId/1002/assetType/media/assetFileId/10021/contextType/PLAYBACK/a.mpd');
  });

  test('an unknown asset, a missing ks and an unknown action are {error: KalturaAPIException}', async () => {
    const {json} = await postJson(`${ott}/service/multirequest`, ottProviderRequest('9999'));
    assert.equal(json.result[0].objectType, 'KalturaLoginSession');
    for (const r of json.result.slice(1)) {
      assert.equal(r.error.objectType, 'KalturaAPIException');
      assert.equal(r.error.code, '500007');
    }
    const noKs = await postJson(`${ott}/service/multirequest`, {
      1: {service: 'asset', action: 'get', id: '1001', ks: '{1:result:ks}'}});
    assert.equal(noKs.json.result[0].error.code, '500016');
    const unknown = await postJson(`${ott}/service/multirequest`, {
      1: {service: 'asset', action: 'delete', id: '1001', ks: 'KS'}});
    assert.equal(unknown.json.result[0].error.objectType, 'KalturaAPIException');
    const badJson = await fetch(`${ott}/service/multirequest`, {method: 'POST', body: '{'});
    assert.equal(badJson.status, 200);
    assert.equal((await badJson.json()).result.error.objectType, 'KalturaAPIException');
  });

  test('getPlaybackContext honours assetFileIds and mediaProtocol; single calls work', async () => {
    const call = (contextDataParams) => postJson(`${ott}/service/asset/action/getPlaybackContext`,
      {assetId: '1001', assetType: 'media', ks: 'KS', contextDataParams});
    assert.equal((await call({context: 'PLAYBACK', assetFileIds: '10011'})).json.result.sources.length, 1);
    assert.equal((await call({context: 'PLAYBACK', assetFileIds: '1'})).json.result.sources.length, 0);
    assert.equal((await call({context: 'PLAYBACK', mediaProtocol: 'https'})).json.result.sources.length, 1);
    assert.equal((await call({context: 'PLAYBACK', mediaProtocol: 'rtmp'})).json.result.sources.length, 0);
    const login = await postJson(`${ott}/service/ottuser/action/anonymousLogin`, {partnerId: 3009});
    assert.equal(login.json.result.objectType, 'KalturaLoginSession');
  });

  test('assetFile.playManifest redirects (302, absolute, CORS) to the stream MPD', async () => {
    const {json} = await postJson(`${ott}/service/multirequest`, ottProviderRequest('1004'));
    const sourceUrl = json.result[2].sources[0].url;
    const res = await fetch(sourceUrl, {redirect: 'manual'});
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${media.url}/content/base/manifest.mpd`);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const mpd = await fetch(`${sourceUrl}?playSessionId=x`);
    assert.equal(mpd.status, 200);
    assert.equal(mpd.url, `${media.url}/content/base/manifest.mpd`);
    const unknown = await fetch(sourceUrl.replace('/assetId/1004/', '/assetId/77/'), {redirect: 'manual'});
    assert.equal(unknown.status, 404);
  });

  test('the OVP API keeps answering next to the OTT one', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`,
      providerRequest('0_template'));
    assert.ok(Array.isArray(json) && json[2].objectType === 'KalturaPlaybackContext');
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

  test('app server: same', async () => {
    const app = await startAppServer({root: REPO});
    const agent = new http.Agent({keepAlive: true});
    await rawRequest(app.url, '/', {agent});
    const busy = await halfSentRequest(app.port);
    await app.stop();
    await busy.closed;
    assert.equal(await connectionRefused(app.port), true);
    agent.destroy();
  });
});

describe('app server', () => {
  let root;
  let app;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'app-server-'));
    const files = {
      'dist/offline-manager-sw.js': 'self.x = 1;',
      'dist/offline-manager-sw_bg.wasm': '\0asm',
      'dist/offline-manager.js': 'export {};',
      'demo/index.html': '<!doctype html>demo',
      'tests/pages/a.css': 'p{}',
      'node_modules/shaka-player/dist/shaka-player.compiled.js': '//shaka',
      'secret.txt': 'secret',
    };
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), {recursive: true});
      fs.writeFileSync(path.join(root, rel), text);
    }
    app = await startAppServer({root});
  });
  after(async () => {
    await app.stop();
    fs.rmSync(root, {recursive: true, force: true});
  });

  test('the worker and shim are served at the root from dist/ (scope /)', async () => {
    const sw = await fetch(`${app.url}/offline-manager-sw.js`);
    assert.equal(sw.status, 200);
    assert.equal(sw.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(sw.headers.get('cache-control'), 'no-store');
    assert.equal(await sw.text(), 'self.x = 1;');
    const wasm = await fetch(`${app.url}/offline-manager-sw_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    await wasm.arrayBuffer();
    assert.equal((await fetch(`${app.url}/offline-manager.js`)).status, 200);
  });

  test('mounts map to their directories; / and /demo redirect to /demo/', async () => {
    const home = await fetch(`${app.url}/`, {redirect: 'manual'});
    assert.equal(home.status, 302);
    assert.equal(home.headers.get('location'), '/demo/');
    const demo = await fetch(`${app.url}/demo`);
    assert.equal(demo.url, `${app.url}/demo/`);
    assert.equal(await demo.text(), '<!doctype html>demo');
    const css = await fetch(`${app.url}/pages/a.css`);
    assert.match(css.headers.get('content-type'), /^text\/css/);
    await css.text();
    assert.equal(await (await fetch(`${app.url}/vendor/shaka/shaka-player.compiled.js`)).text(),
      '//shaka');
  });

  test('unknown paths are 404 and traversal is refused', async () => {
    assert.equal((await rawRequest(app.url, '/nothing.js')).status, 404);
    for (const p of ['/demo/../secret.txt', '/demo/%2e%2e/secret.txt', '/dist/..%2fsecret.txt']) {
      const res = await rawRequest(app.url, p);
      assert.equal(res.status, 404, p);
      assert.notEqual(res.body.toString(), 'secret');
    }
  });
});
