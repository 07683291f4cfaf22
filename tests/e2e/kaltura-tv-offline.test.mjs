// The TV (OTT) build end to end: the OTT provider of kaltura-tv-player.js (against the loopback
// Phoenix emulator at `<media>/ott/api_v3`) gives a media config for an asset id, the Rust worker
// downloads the DASH stream into IndexedDB, and with the media server stopped and the browser
// offline the TV build of the Kaltura Player plays it from the worker.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startServers, launch, openPage} from './harness.mjs';
import {downloadThroughProvider, playStoredEntry, assertCompleted, assertPlayedFromWorker} from './kaltura-flow.mjs';

const PARTNER_ID = 3009;

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

/** The OTT provider config, and the mediaInfo fields beyond entryId that it takes as they are. */
const provider = (media) => ({partnerId: PARTNER_ID, env: {serviceUrl: `${media.url}/ott/api_v3`}});
const mediaInfo = (assetId) => ({
  entryId: assetId,
  mediaType: 'media',
  contextType: 'PLAYBACK',
  protocol: 'http',
  assetReferenceType: 'media',
  formats: ['DASH_Main'],
});

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
      const seen = await downloadThroughProvider(page, {
        provider: provider(servers.media),
        mediaInfo: mediaInfo(assetId),
        options: {bitrate: 400000},
      });
      if (process.env.E2E_VERBOSE) console.log(JSON.stringify(seen.config, null, 1));
      const multi = log.filter((r) => r.url?.endsWith('/ott/api_v3/service/multirequest'));
      assert.equal(multi.length, 1, 'the OTT provider sent one multirequest to the OTT service URL');
      assert.equal(multi[0].status, 200);
      const source = seen.config.dash[0];
      assert.match(
        source.url,
        new RegExp(`/ott/api_v3/service/assetFile/action/playManifest/.*/assetId/${assetId}/`),
        'the config comes from the OTT provider',
      );
      assert.equal(source.mimetype, 'application/dash+xml');
      assert.equal(String(seen.config.id), assetId);
      assert.equal(seen.config.type, 'Vod');
      assert.equal(seen.config.session.partnerId, PARTNER_ID);
      assert.equal(seen.config.session.isAnonymous, true);
      assert.ok(seen.config.session.ks, 'the anonymous-login ks is in the session');
      assertCompleted(seen, assetId);

      await servers.media.stop(); // the network is gone: the media server no longer answers
      await context.setOffline(true);
      log.length = 0;
      const played = await playStoredEntry(page, {entryId: assetId, provider: provider(servers.media), seconds: 3});
      assertPlayedFromWorker(played, log, servers.app.url);
    } finally {
      await context.close();
      await servers.restartMedia();
    }
  });
}
