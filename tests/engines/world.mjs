// What every engine test file shares: the engine (ENGINE), the app and media servers, a fault
// proxy in front of the media server, what the engine's pages offer, and the steps the tests
// repeat (a fresh page, taking the network away, playing a stored entry offline).

import assert from 'node:assert/strict';
import {after} from 'node:test';
import {ENGINE, openEngine} from './engines.mjs';
import {startServers} from '../e2e/harness.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';

/** Media segment URLs of the test content (the proxy's delay rules match them). */
export const SEGMENTS = /\/content\/.*\.(m4s|mp4|webm)$/;

/** Starts the engine and the servers; everything stops after the test file. */
export async function startWorld() {
  const engine = await openEngine(ENGINE);
  const servers = await startServers();
  const proxy = await startFaultProxy({target: () => servers.media.url});
  after(async () => {
    await engine.close();
    await proxy.stop();
    await servers.stop();
  });

  /**
   * A fresh page of core.html with `window.om` built from `options` (unless `setup` is false:
   * the test builds it itself); closed after `fn`.
   */
  async function withPage(fn, {options = {}, eng = engine, delayMs = 0, setup = true} = {}) {
    proxy.clearRules();
    if (delayMs) proxy.addRule({match: SEGMENTS, action: 'delay', delayMs});
    const page = await eng.newPage(`${servers.app.url}/pages/core.html`);
    try {
      if (setup) await page.evaluate((o) => window.setup(o), options);
      return await fn(page);
    } finally {
      proxy.clearRules();
      await page.close();
    }
  }

  // What the engine's pages offer, read once: tests that need it skip elsewhere, saying why.
  const features = await withPage((page) =>
    page.evaluate(async () => ({
      clearKey: await window.hasClearKey(),
      webm:
        typeof MediaSource !== 'undefined'
        && MediaSource.isTypeSupported('video/webm; codecs="vp9"')
        && MediaSource.isTypeSupported('audio/webm; codecs="opus"'),
    })),
  );

  const localRequestsReachingServer = () => servers.app.requests.filter((r) => r.url.includes('/__offline__/'));

  /** Takes the network away: the media server stops and, where the driver can, the browser goes offline. */
  async function goOffline(page) {
    await servers.media.stop();
    if (engine.can.offline) await page.setOffline(true);
  }

  async function goOnline(page) {
    if (engine.can.offline) await page.setOffline(false).catch(() => {});
    await servers.restartMedia();
  }

  /**
   * With the network gone, plays the stored entry `id` in shaka-player and dash.js past `seconds`
   * (with its stored ClearKey licence when `clearKey`), and checks that no local request reached
   * the app server: the worker answered them all. Then `more(page, localManifestUrl)`, still offline.
   */
  async function playOffline(page, id, {seconds = 3, clearKey = false, more} = {}) {
    const stored = await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id);
    const local = stored.sources.dash[0];
    assert.equal(local.isLocal, true);
    await goOffline(page);
    try {
      servers.app.requests.length = 0;
      for (const player of ['shaka', 'dashjs']) {
        const played = await page.evaluate(({player, url, seconds, lic}) => window.playFor(player, url, seconds, {clearKeyLicenseUrl: lic}), {
          player,
          url: local.url,
          seconds,
          lic: clearKey ? stored.localLicenseUrl : undefined,
        });
        assert.deepEqual(played.errors, [], `${player}: no error`);
        assert.equal(played.videoError, null, `${player}: no media error`);
        assert.ok(played.currentTime > seconds, `${player}: currentTime reached ${played.currentTime}`);
      }
      if (more) await more(page, local.url);
      const localSeen = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/__offline__/')).length);
      assert.ok(localSeen >= 4, `${localSeen} local requests made`);
      assert.deepEqual(localRequestsReachingServer(), [], 'the worker answered every local request');
    } finally {
      await goOnline(page);
    }
  }

  return {
    engine,
    servers,
    proxy,
    features,
    withPage,
    playOffline,
    goOffline,
    goOnline,
    localRequestsReachingServer,
    segmentRequests: () => proxy.requests.filter((r) => SEGMENTS.test(r.url)).length,
    waitEnd: (page, id, ms = 90_000) => page.evaluate(({id, ms}) => window.waitState(id, ['completed', 'failed'], ms), {id, ms}),
    /** Whether IndexedDB still holds the entry record, and how many segments of it. */
    async recordsOf(page, id) {
      const {entry, items} = await page.evaluate((id) => window.readStore(id), id);
      return {entry: Boolean(entry), items: items.length};
    },
  };
}
