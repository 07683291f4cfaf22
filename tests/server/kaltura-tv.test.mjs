// Tests of the Kaltura OTT (Phoenix) emulator (kaltura-tv.mjs) on the media server, on the
// generated content (tests/content/make-content.sh is run when it is missing).
// Run: node --test tests/server/

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {DEFAULT_OTT_ASSETS, OTT_SERVICE_PATH} from './kaltura-tv.mjs';
import {startMediaServer} from './media-server.mjs';
import {CONTENT_DIR, ensureRealContent, postJson, providerRequest} from './helpers.mjs';

/** The request the Kaltura OTT provider (TV build) sends for getMediaConfig({entryId}) without a ks. */
function ottProviderRequest(assetId, partnerId = 3009) {
  return {
    1: {service: 'ottuser', action: 'anonymousLogin', partnerId},
    2: {service: 'asset', action: 'get', id: assetId, assetReferenceType: 'media', ks: '{1:result:ks}'},
    3: {
      service: 'asset',
      action: 'getPlaybackContext',
      assetId,
      assetType: 'media',
      contextDataParams: {objectType: 'KalturaPlaybackContextOptions', context: 'PLAYBACK'},
      ks: '{1:result:ks}',
    },
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

  test('the default assets are the six streams under numeric ids', () => {
    assert.equal(OTT_SERVICE_PATH, '/ott/api_v3');
    assert.deepEqual(
      Object.entries(DEFAULT_OTT_ASSETS).map(([id, a]) => [id, a.manifest]),
      [
        ['1001', 'template/manifest.mpd'],
        ['1002', 'timeline/manifest.mpd'],
        ['1003', 'list/manifest.mpd'],
        ['1004', 'base/manifest.mpd'],
        ['1005', 'encrypted/manifest.mpd'],
        ['1006', 'demo/manifest.mpd'],
      ],
    );
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
      {id: source.id, type: source.type, format: source.format, duration: source.duration, drm: source.drm},
      {id: 10021, type: 'DASH_Main', format: 'mpegdash', duration: 12, drm: []},
    );
    assert.equal(
      source.url,
      `${ott}/service/assetFile/action/playManifest/partnerId/3009/assetId/1002/assetType/media/assetFileId/10021/contextType/PLAYBACK/a.mpd`,
    );
  });

  test('an unknown asset, a missing ks and an unknown action are {error: KalturaAPIException}', async () => {
    const {json} = await postJson(`${ott}/service/multirequest`, ottProviderRequest('9999'));
    assert.equal(json.result[0].objectType, 'KalturaLoginSession');
    for (const r of json.result.slice(1)) {
      assert.equal(r.error.objectType, 'KalturaAPIException');
      assert.equal(r.error.code, '500007');
    }
    const noKs = await postJson(`${ott}/service/multirequest`, {
      1: {service: 'asset', action: 'get', id: '1001', ks: '{1:result:ks}'},
    });
    assert.equal(noKs.json.result[0].error.code, '500016');
    const unknown = await postJson(`${ott}/service/multirequest`, {
      1: {service: 'asset', action: 'delete', id: '1001', ks: 'KS'},
    });
    assert.equal(unknown.json.result[0].error.objectType, 'KalturaAPIException');
    const badJson = await fetch(`${ott}/service/multirequest`, {method: 'POST', body: '{'});
    assert.equal(badJson.status, 200);
    assert.equal((await badJson.json()).result.error.objectType, 'KalturaAPIException');
  });

  test('getPlaybackContext honours assetFileIds and mediaProtocol; single calls work', async () => {
    const call = (contextDataParams) =>
      postJson(`${ott}/service/asset/action/getPlaybackContext`, {assetId: '1001', assetType: 'media', ks: 'KS', contextDataParams});
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
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, providerRequest('0_template'));
    assert.ok(Array.isArray(json) && json[2].objectType === 'KalturaPlaybackContext');
  });
});
