// The local manifest is a plain static DASH manifest served by the worker, so any MSE player
// plays a stored entry: shaka-player and dash.js, with a plain config (no Kaltura provider),
// the media server stopped and the browser offline.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startServers, launch, openPage} from './harness.mjs';

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

/** In the page: store `manifestUrl` under `entryId` with a plain config; resolves on completion. */
function downloadPlain(page, entryId, manifestUrl) {
  return page.evaluate(
    async ({entryId, manifestUrl}) => {
      const om = new window.OfflineManager();
      window.om = om;
      const done = new Promise((resolve, reject) =>
        om.addEventListener('statechange', (e) => {
          const d = e.payload.detail;
          if (d.entryId === entryId && d.state === 'completed') resolve();
          if (d.entryId === entryId && d.state === 'failed') reject(new Error(JSON.stringify(d)));
        }),
      );
      await om.getMediaConfig({entryId, sources: {dash: [{url: manifestUrl}]}, metadata: {name: entryId}});
      await om.download(entryId, {bitrate: 400000});
      await done;
      return (await om.getDownloadedMediaConfig(entryId)).sources.dash[0].url;
    },
    {entryId, manifestUrl},
  );
}

/** In the page: play `url` with `which` player until currentTime passes `seconds` (tests/pages/play.js). */
function playInPage(page, which, url, seconds) {
  return page.evaluate(({which, url, seconds}) => window.playFor(which, url, seconds), {which, url, seconds});
}

const CASES = [
  ['shaka', 'timeline', 'shaka-player'],
  ['dashjs', 'template', 'dash.js'],
  ['shaka', 'base', 'shaka-player'],
  ['dashjs', 'list', 'dash.js'],
];
for (const [which, form, name] of CASES) {
  test(`${name} plays a stored ${form} entry offline from the worker`, async () => {
    const {context, page, log} = await openPage(browser, servers.app, '/pages/players.html');
    try {
      const entryId = `plain-${form}-${which}`;
      const local = await downloadPlain(page, entryId, `${servers.media.url}/content/${form}/manifest.mpd`);
      assert.ok(local.startsWith(`${servers.app.url}/__offline__/`), local);
      await servers.media.stop();
      await context.setOffline(true);
      log.length = 0;
      const played = await playInPage(page, which, local, 3);
      assert.deepEqual(played.errors, []);
      assert.equal(played.videoError, null);
      assert.ok(played.currentTime > 3, `currentTime reached ${played.currentTime}`);
      const local_requests = log.filter((r) => r.url?.includes('/__offline__/'));
      assert.ok(local_requests.length >= 3);
      for (const r of local_requests) assert.equal(r.fromServiceWorker, true, `${r.url} answered by the worker`);
    } finally {
      await context.close();
      await servers.restartMedia();
    }
  });
}
