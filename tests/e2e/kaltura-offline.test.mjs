// The walking skeleton end to end: the Kaltura provider (against the loopback API emulator)
// gives a media config, the Rust worker downloads the DASH stream into IndexedDB, and with the
// media server stopped and the browser offline the Kaltura Player plays it from the worker.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startServers, launch, openPage} from './harness.mjs';

let servers;
let browser;
before(async () => { servers = await startServers(); browser = await launch(); });
after(async () => { await browser?.close(); await servers?.stop(); });

/** In the page: get the config, download, and wait for completion; returns what the page saw. */
async function downloadInPage(page, media, entryId, options) {
  return page.evaluate(async ({serviceUrl, entryId, options}) => {
    const om = new KalturaPlayer.OfflineManager({provider: {partnerId: 1234, env: {serviceUrl, cdnUrl: serviceUrl}}});
    window.om = om;
    const seen = {progress: [], states: [], errors: []};
    om.addEventListener('progress', (e) => seen.progress.push(e.payload.detail));
    om.addEventListener('error', (e) => seen.errors.push(e.payload.detail ?? e.payload));
    const completed = new Promise((resolve, reject) => {
      om.addEventListener('statechange', (e) => {
        seen.states.push(e.payload.detail);
        if (e.payload.detail.entryId !== entryId) return;
        if (e.payload.detail.state === 'completed') resolve();
        if (e.payload.detail.state === 'failed') reject(new Error('download failed: ' + JSON.stringify(e.payload.detail)));
      });
    });
    const fail = (step) => (e) => { throw new Error(`${step}: ${JSON.stringify(e)}`); };
    const config = await om.getMediaConfig({entryId}).catch(fail('getMediaConfig'));
    seen.configUrl = config.sources.dash[0].url;
    seen.started = await om.download(entryId, options).catch(fail('download'));
    await completed;
    seen.all = await om.getAllDownloads();
    return seen;
  }, {serviceUrl: media.url + '/api_v3', entryId, options});
}

/** In the page: play the stored entry and wait until currentTime passes `seconds`. */
async function playOfflineInPage(page, entryId, seconds) {
  return page.evaluate(async ({entryId, seconds}) => {
    const config = await window.om.getDownloadedMediaConfig(entryId);
    const player = KalturaPlayer.setup({
      targetId: 'player',
      provider: {partnerId: 1234},
      playback: {autoplay: true, muted: true},
    });
    const errors = [];
    player.addEventListener(player.Event.ERROR, (e) => errors.push(JSON.stringify(e.payload ?? e)));
    player.setMedia(config);
    const start = Date.now();
    while (player.currentTime <= seconds && errors.length === 0 && Date.now() - start < 30000) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = {source: config.sources.dash[0], poster: config.sources.poster, currentTime: player.currentTime, errors};
    player.destroy();
    return result;
  }, {entryId, seconds});
}

const FORMS = [
  ['0_template', 'SegmentTemplate $Number$'],
  ['0_timeline', 'SegmentTimeline'],
  ['0_list', 'SegmentList byte-range'],
  ['0_base', 'SegmentBase (sidx)'],
];
for (const [entryId, form] of FORMS) {
  test(`a ${form} stream downloaded through the Kaltura provider plays offline in the Kaltura Player`, async () => {
    const {context, page, log} = await openPage(browser, servers.app, '/pages/kaltura.html');
    try {
      const seen = await downloadInPage(page, servers.media, entryId, {bitrate: 400000});
      assert.match(seen.configUrl, /playManifest\/entryId\/0_/, 'the config comes from the Kaltura provider');
      assert.equal(seen.errors.length, 0, JSON.stringify(seen.errors));
      assert.ok(seen.progress.length > 0, 'progress events reached the page');
      const last = seen.progress.at(-1);
      assert.equal(last.progress, 100);
      assert.equal(last.segmentsDone, last.segmentsTotal);
      const entry = seen.all.find((e) => e.id === entryId);
      assert.equal(entry.state, 'completed');
      assert.ok(entry.size > 100_000, `stored ${entry.size} bytes`);

      await servers.media.stop(); // the network is gone: the media server no longer answers
      await context.setOffline(true);
      log.length = 0;
      const played = await playOfflineInPage(page, entryId, 3);
      assert.equal(played.source.isLocal, true);
      assert.equal(played.source.localSource, true);
      assert.ok(played.source.url.startsWith(servers.app.url + '/__offline__/'), played.source.url);
      assert.deepEqual(played.errors, []);
      assert.ok(played.currentTime > 3, `currentTime reached ${played.currentTime}`);
      if (process.env.E2E_VERBOSE) console.log(JSON.stringify(log, null, 1));
      assert.ok(played.poster.startsWith(servers.app.url + '/__offline__/'), `poster ${played.poster} is stored`);
      assert.deepEqual(log.filter((r) => r.failed || r.pageError), [], 'nothing failed while offline');
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
