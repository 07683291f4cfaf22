// Tests of the Kaltura OVP emulator (kaltura-ovp.mjs) on the media server, on the generated
// content (tests/content/make-content.sh is run when it is missing). Run: node --test tests/server/

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {resolveReferences} from './kaltura-ovp.mjs';
import {startMediaServer} from './media-server.mjs';
import {CONTENT_DIR, ensureRealContent, postJson, providerRequest} from './helpers.mjs';

describe('multirequest references', () => {
  test('{N:result:path} tokens are replaced by walking into result N (1-based)', () => {
    const results = [{ks: 'KS1'}, {objects: [{id: '0_abc', n: 3}]}];
    const item = {ks: '{1:result:ks}', entryId: '{2:result:objects:0:id}', nested: {list: ['{2:result:objects:0:n}', 'id={2:result:objects:0:id}']}};
    assert.deepEqual(resolveReferences(item, results), {ks: 'KS1', entryId: '0_abc', nested: {list: [3, 'id=0_abc']}});
  });

  test('an unresolvable token is left as is', () => {
    assert.equal(resolveReferences('{2:result:objects:0:id}', [{}, {objects: []}]), '{2:result:objects:0:id}');
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
    const {res, json} = await postJson(`${media.url}/api_v3/service/multirequest`, providerRequest('0_template'));
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
      {id: '0_template', name: 'Template sample', duration: 12},
    );
    assert.equal(list.objects[0].thumbnailUrl, `${media.url}/content/poster.jpg`);
    assert.equal(context.objectType, 'KalturaPlaybackContext');
    assert.equal(context.sources[0].format, 'mpegdash');
    assert.equal(context.sources[0].flavorIds, context.flavorAssets.map((f) => f.id).join(','));
    assert.deepEqual(metadata, {objectType: 'KalturaMetadataListResponse', totalCount: 0, objects: []});
  });

  test('an unknown entry: empty list, then KalturaAPIException ENTRY_ID_NOT_FOUND', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest?format=1`, providerRequest('0_missing'));
    assert.equal(json[1].totalCount, 0);
    assert.equal(json[2].objectType, 'KalturaAPIException');
    assert.equal(json[2].code, 'ENTRY_ID_NOT_FOUND');
    const direct = await postJson(`${media.url}/api_v3/service/multirequest/`, {
      1: {service: 'baseEntry', action: 'getPlaybackContext', entryId: '0_nope'},
    });
    assert.deepEqual(direct.json[0], {
      objectType: 'KalturaAPIException',
      code: 'ENTRY_ID_NOT_FOUND',
      message: 'Entry id "0_nope" not found',
      args: {ENTRY_ID: '0_nope'},
    });
  });

  test('an unknown service or action is a SERVICE_FORBIDDEN exception', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, {
      1: {service: 'flavorAsset', action: 'delete', id: '1'},
    });
    assert.equal(json[0].objectType, 'KalturaAPIException');
    assert.equal(json[0].code, 'SERVICE_FORBIDDEN');
  });

  test('baseEntry.list honours idIn', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, {
      1: {service: 'baseEntry', action: 'list', filter: {idIn: '0_timeline,0_x,0_template'}},
    });
    assert.deepEqual(
      json[0].objects.map((o) => o.id),
      ['0_timeline', '0_template'],
    );
  });

  test('playManifest redirects (302, absolute, CORS) to the stream MPD', async () => {
    const {json} = await postJson(`${media.url}/api_v3/service/multirequest`, {
      1: {service: 'baseEntry', action: 'getPlaybackContext', entryId: '0_timeline'},
    });
    const sourceUrl = json[0].sources[0].url;
    assert.match(sourceUrl, /\/p\/1234\/sp\/123400\/playManifest\/entryId\/0_timeline\//);
    const res = await fetch(sourceUrl, {redirect: 'manual'});
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${media.url}/content/timeline/manifest.mpd`);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');

    // The form the provider builds itself, with a ks and a query string; followed this time.
    const built = `${media.url}/p/1234/sp/123400/playManifest/entryId/0_template/protocol/http/format/mpegdash/flavorIds/a,b/ks/KS/a.mpd?playSessionId=x&referrer=y`;
    const mpd = await fetch(built);
    assert.equal(mpd.status, 200);
    assert.equal(mpd.url, `${media.url}/content/template/manifest.mpd`);
    assert.match(await mpd.text(), /type="static"/);

    const unknown = await fetch(built.replace('0_template', '0_none'), {redirect: 'manual'});
    assert.equal(unknown.status, 404);
  });
});
