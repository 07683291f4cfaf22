// The walking skeleton end to end: the Kaltura provider (against the loopback API emulator)
// gives a media config, the Rust worker downloads the DASH stream into IndexedDB, and with the
// media server stopped and the browser offline the Kaltura Player plays it from the worker.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startServers, launch, openPage} from './harness.mjs';
import {downloadThroughProvider, playStoredEntry, assertCompleted, assertPlayedFromWorker} from './kaltura-flow.mjs';

const PARTNER_ID = 1234;
let servers;
let browser;
before(async () => {
  servers = await startServers();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await servers?.stop();
});

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
      const serviceUrl = `${servers.media.url}/api_v3`;
      const provider = {partnerId: PARTNER_ID, env: {serviceUrl, cdnUrl: serviceUrl}};
      const seen = await downloadThroughProvider(page, {provider, mediaInfo: {entryId}, options: {bitrate: 400000}});
      assert.match(seen.config.dash[0].url, /playManifest\/entryId\/0_/, 'the config comes from the Kaltura provider');
      assertCompleted(seen, entryId);

      await servers.media.stop(); // the network is gone: the media server no longer answers
      await context.setOffline(true);
      log.length = 0;
      const played = await playStoredEntry(page, {entryId, provider: {partnerId: PARTNER_ID}, seconds: 3});
      assertPlayedFromWorker(played, log, servers.app.url);
      assert.ok(played.poster.startsWith(`${servers.app.url}/__offline__/`), `poster ${played.poster} is stored`);
      assert.deepEqual(
        log.filter((r) => r.failed || r.pageError),
        [],
        'nothing failed while offline',
      );
    } finally {
      await context.close();
      await servers.restartMedia();
    }
  });
}
