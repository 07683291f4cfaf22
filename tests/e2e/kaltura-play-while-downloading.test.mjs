// Playing a title in the Kaltura Player while it downloads: with the media server slowed so that
// the download takes about 30 s, `setMedia(getDownloadedMediaConfig(id))` at 10 % plays past 20 s
// with no error, and when the download completes every segment reached the media server once.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {startServers, launch, openPage} from './harness.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';

const PARTNER_ID = 1234;
const SEGMENTS = /\/content\/.*\.m4s$/;
let servers;
let browser;
let proxy;
before(async () => {
  servers = await startServers();
  proxy = await startFaultProxy({target: () => servers.media.url});
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await proxy?.stop();
  await servers?.stop();
});

test('the Kaltura Player plays a title from 10 % of its download past 20 s, and every segment is fetched once', {timeout: 240_000}, async () => {
  const {context, page} = await openPage(browser, servers.app, '/pages/kaltura.html');
  try {
    proxy.addRule({match: SEGMENTS, action: 'delay', delayMs: 1000});
    proxy.resetLog();
    const result = await page.evaluate(
      async ({url, partnerId}) => {
        const id = 'kaltura-pwd';
        const om = new KalturaPlayer.OfflineManager();
        const seen = {progress: [], errors: []};
        om.addEventListener('progress', (e) => seen.progress.push(e.payload.detail.progress));
        om.addEventListener('error', (e) => seen.errors.push(e.payload.detail ?? e.payload));
        const completed = new Promise((resolve) =>
          om.addEventListener('statechange', (e) => {
            if (e.payload.detail.entryId === id && ['completed', 'failed'].includes(e.payload.detail.state)) resolve(e.payload.detail.state);
          }),
        );
        await om.getMediaConfig({entryId: id, sources: {dash: [{url}]}, metadata: {name: 'play while downloading'}});
        await om.download(id, {bitrate: 400000});
        const start = Date.now();
        while (!seen.progress.some((p) => p >= 10) && Date.now() - start < 60000) await new Promise((r) => setTimeout(r, 100));
        const config = await om.getDownloadedMediaConfig(id);
        const player = KalturaPlayer.setup({targetId: 'player', provider: {partnerId}, playback: {autoplay: true, muted: true}});
        const playerErrors = [];
        player.addEventListener(player.Event.ERROR, (e) => playerErrors.push(JSON.stringify(e.payload ?? e)));
        player.setMedia(config);
        const playing = Date.now();
        while (player.currentTime <= 20 && playerErrors.length === 0 && Date.now() - playing < 60000) {
          await new Promise((r) => setTimeout(r, 200));
        }
        const played = {state: config.state, progress: config.progress, currentTime: player.currentTime, playerErrors};
        player.destroy();
        played.end = await completed;
        played.errors = seen.errors;
        return played;
      },
      {url: `${proxy.url}/content/many/manifest.mpd`, partnerId: PARTNER_ID},
    );
    assert.equal(result.state, 'downloading', 'the config was taken while the title downloaded');
    assert.ok(result.progress >= 10 && result.progress < 100, `at ${result.progress} %`);
    assert.deepEqual(result.playerErrors, []);
    assert.ok(result.currentTime > 20, `currentTime reached ${result.currentTime}`);
    assert.equal(result.end, 'completed');
    assert.deepEqual(result.errors, []);
    const counts = new Map();
    for (const r of proxy.requests.filter((r) => SEGMENTS.test(r.url) && r.method === 'GET')) counts.set(r.url, (counts.get(r.url) ?? 0) + 1);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no segment reached the media server twice',
    );
    assert.equal(counts.size, 122, 'every segment of the title (2 inits, 120 media) reached it once');
  } finally {
    await context.close();
  }
});
