// The TV (OTT) build end to end: the OTT provider of kaltura-tv-player.js (against the loopback
// Phoenix emulator at `<media>/ott/api_v3`) gives a media config for an asset id, the Rust worker
// downloads the DASH stream into IndexedDB, and with the media server stopped and the browser
// offline the TV build of the Kaltura Player plays it from the worker.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startServers, launch, openPage} from './harness.mjs';

const PARTNER_ID = 3009;

let servers;
let browser;
before(async () => { servers = await startServers(); browser = await launch(); });
after(async () => { await browser?.close(); await servers?.stop(); });

/** In the page: get the config through the OTT provider, download, and wait for completion. */
async function downloadInPage(page, media, assetId, options) {
  return page.evaluate(async ({serviceUrl, partnerId, assetId, options}) => {
    const om = new KalturaPlayer.OfflineManager({provider: {partnerId, env: {serviceUrl}}});
    window.om = om;
    const seen = {progress: [], states: [], errors: []};
    om.addEventListener('progress', (e) => seen.progress.push(e.payload.detail));
    om.addEventListener('error', (e) => seen.errors.push(e.payload.detail ?? e.payload));
    const completed = new Promise((resolve, reject) => {
      om.addEventListener('statechange', (e) => {
        seen.states.push(e.payload.detail);
        if (e.payload.detail.entryId !== assetId) return;
        if (e.payload.detail.state === 'completed') resolve();
        if (e.payload.detail.state === 'failed') reject(new Error('download failed: ' + JSON.stringify(e.payload.detail)));
      });
    });
    const fail = (step) => (e) => { throw new Error(`${step}: ${JSON.stringify(e)}`); };
    // OTT mediaInfo fields beyond entryId are forwarded to the provider as they are.
    const config = await om.getMediaConfig({
      entryId: assetId, mediaType: 'media', contextType: 'PLAYBACK', protocol: 'http',
      assetReferenceType: 'media', formats: ['DASH_Main'],
    }).catch(fail('getMediaConfig'));
    seen.config = {id: config.sources.id, type: config.sources.type, duration: config.sources.duration,
      dash: config.sources.dash, session: config.session, metadata: config.sources.metadata};
    seen.started = await om.download(assetId, options).catch(fail('download'));
    await completed;
    seen.all = await om.getAllDownloads();
    return seen;
  }, {serviceUrl: media.url + '/ott/api_v3', partnerId: PARTNER_ID, assetId, options});
}

/** In the page: play the stored asset in the TV build and wait until currentTime passes `seconds`. */
async function playOfflineInPage(page, media, assetId, seconds) {
  return page.evaluate(async ({serviceUrl, partnerId, assetId, seconds}) => {
    const config = await window.om.getDownloadedMediaConfig(assetId);
    const player = KalturaPlayer.setup({
      targetId: 'player',
      provider: {partnerId, env: {serviceUrl}},
      playback: {autoplay: true, muted: true},
    });
    const errors = [];
    player.addEventListener(player.Event.ERROR, (e) => errors.push(JSON.stringify(e.payload ?? e)));
    player.setMedia(config);
    const start = Date.now();
    while (player.currentTime <= seconds && errors.length === 0 && Date.now() - start < 30000) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = {source: config.sources.dash[0], currentTime: player.currentTime, errors};
    player.destroy();
    return result;
  }, {serviceUrl: media.url + '/ott/api_v3', partnerId: PARTNER_ID, assetId, seconds});
}

const FORMS = [
  ['1001', 'SegmentTemplate $Number$'],
  ['1002', 'SegmentTimeline'],
  ['1003', 'SegmentList byte-range'],
  ['1004', 'SegmentBase (sidx)'],
];
for (const [assetId, form] of FORMS) {
  test(`a ${form} asset downloaded through the OTT provider plays offline in the TV build`, async () => {
    const {context, page, log} = await openPage(browser, servers.app, '/pages/kaltura-tv.html');
    try {
      const seen = await downloadInPage(page, servers.media, assetId, {bitrate: 400000});
      if (process.env.E2E_VERBOSE) console.log(JSON.stringify(seen.config, null, 1));
      const multi = log.filter((r) => r.url?.endsWith('/ott/api_v3/service/multirequest'));
      assert.equal(multi.length, 1, 'the OTT provider sent one multirequest to the OTT service URL');
      assert.equal(multi[0].status, 200);
      const source = seen.config.dash[0];
      assert.match(source.url, new RegExp(`/ott/api_v3/service/assetFile/action/playManifest/.*/assetId/${assetId}/`),
        'the config comes from the OTT provider');
      assert.equal(source.mimetype, 'application/dash+xml');
      assert.equal(String(seen.config.id), assetId);
      assert.equal(seen.config.type, 'Vod');
      assert.equal(seen.config.session.partnerId, PARTNER_ID);
      assert.equal(seen.config.session.isAnonymous, true);
      assert.ok(seen.config.session.ks, 'the anonymous-login ks is in the session');
      assert.equal(seen.errors.length, 0, JSON.stringify(seen.errors));
      assert.ok(seen.progress.length > 0, 'progress events reached the page');
      const last = seen.progress.at(-1);
      assert.equal(last.progress, 100);
      assert.equal(last.segmentsDone, last.segmentsTotal);
      const entry = seen.all.find((e) => e.id === assetId);
      assert.equal(entry.state, 'completed');
      assert.ok(entry.size > 100_000, `stored ${entry.size} bytes`);

      await servers.media.stop(); // the network is gone: the media server no longer answers
      await context.setOffline(true);
      log.length = 0;
      const played = await playOfflineInPage(page, servers.media, assetId, 3);
      assert.equal(played.source.isLocal, true);
      assert.equal(played.source.localSource, true);
      assert.ok(played.source.url.startsWith(servers.app.url + '/__offline__/'), played.source.url);
      assert.deepEqual(played.errors, []);
      assert.ok(played.currentTime > 3, `currentTime reached ${played.currentTime}`);
      if (process.env.E2E_VERBOSE) console.log(JSON.stringify(log, null, 1));
      const offlineRequests = log.filter((r) => r.url?.includes('/__offline__/'));
      assert.ok(offlineRequests.length >= 3, 'the player fetched the manifest and segments locally');
      for (const r of offlineRequests) {
        assert.equal(r.fromServiceWorker, true, `${r.url} answered by the worker`);
        assert.ok(r.status === 200 || r.status === 206, `${r.url} → ${r.status}`);
      }
    } finally {
      await context.close();
      await servers.restartMedia();
    }
  });
}
