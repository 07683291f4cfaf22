// The core end-to-end suite, run once per browser engine (ENGINE=chromium | firefox | webkit,
// see engines.mjs): register, download of every addressing form with progress events, stored
// bytes equal to the origin's, offline playback in shaka-player and dash.js answered by the
// worker alone, Range 206, pause/resume, reload mid-download, remove/removeAll, a full disk and
// worker kills where the engine can force them. What an engine cannot do is a skipped test
// whose reason says why.
//
// WebKit under WebDriver runs a private (ephemeral) session, whose IndexedDB refuses Blobs: the
// same tests there prove that the worker stores segments as ArrayBuffers instead and serves them
// as before. Each test has a fresh page in a fresh context (its own storage and worker).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {ENGINE, openEngine} from './engines.mjs';
import {SEGMENTS, startWorld} from './world.mjs';
import {CONTENT_DIR, prepareEncryptedContent} from '../e2e/harness.mjs';
import {checkStored, originBytes, sleep, startDownload, summaryOf, templateMpd} from '../e2e/engine-helpers.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startClearKeyServer} from '../server/clearkey-server.mjs';
import {KEYS} from '../content/encrypted-keys.mjs';

const world = await startWorld();
const {engine, servers, proxy, features, withPage, playOffline, waitEnd, recordsOf, segmentRequests, localRequestsReachingServer} = world;

const T = {timeout: 180_000};
const manifest = (form) => `${proxy.url}/content/${form}/manifest.mpd`;

test('the worker registers, controls the page and answers the API', T, async () => {
  await withPage(async (page) => {
    assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
    const controlled = await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      for (let i = 0; i < 50 && !navigator.serviceWorker.controller; i++) await new Promise((r) => setTimeout(r, 100));
      return Boolean(navigator.serviceWorker.controller);
    });
    assert.ok(controlled, 'the page is controlled by the worker');
    const ping = await page.evaluate(() => window.ping());
    assert.equal(ping.activeJobs, 0);
    assert.equal(typeof ping.startedAt, 'number');
  });
});

const FORMS = ['timeline', 'template', 'list', 'base'];
for (const form of FORMS) {
  test(`${form}: a download sends progress, stores the origin's bytes, and plays offline in shaka-player and dash.js from the worker alone`, T, async () => {
    await withPage(async (page) => {
      const id = `core-${form}`;
      const started = await startDownload(page, id, manifest(form));
      assert.equal(started.state, 'downloading');
      const end = await waitEnd(page, id);
      assert.equal(end.state, 'completed', JSON.stringify(end));

      const progress = (await page.evaluate((id) => window.eventsOf(id, 'progress'), id)).map((e) => e.detail);
      assert.ok(progress.length >= 2, `${progress.length} progress events`);
      for (const [i, p] of progress.entries())
        assert.ok(i === 0 || p.progress >= progress[i - 1].progress, `progress never goes back: ${JSON.stringify(progress)}`);
      const last = progress.at(-1);
      assert.equal(last.progress, 100);
      assert.equal(last.segmentsDone, last.segmentsTotal);

      const {stored, entry} = await checkStored(page, id, CONTENT_DIR);
      const keepsBlobs = await page.evaluate(() => window.idbKeepsBlobs());
      const forms = new Set(stored.flatMap((s) => s.forms));
      assert.deepEqual(
        [...forms],
        [keepsBlobs ? 'blob' : 'bytes'],
        `segments are stored as ${keepsBlobs ? 'Blobs' : 'ArrayBuffers (this IndexedDB refuses Blobs)'}`,
      );

      const track = entry.plan.tracks.find((t) => t.segments.length > 0);
      const want = originBytes(CONTENT_DIR, track.segments[0].url, track.segments[0].range).subarray(10, 100);
      await playOffline(page, id, {
        more: async (page, manifestUrl) => {
          const ranged = await page.evaluate(
            async (url) => {
              const r = await fetch(url, {headers: {Range: 'bytes=10-99'}});
              const bytes = new Uint8Array(await r.arrayBuffer());
              return {status: r.status, contentRange: r.headers.get('Content-Range'), hex: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')};
            },
            manifestUrl.replace(/manifest\.mpd$/, `${track.key}/1`),
          );
          assert.equal(ranged.status, 206);
          assert.match(ranged.contentRange, /^bytes 10-99\/\d+$/);
          assert.equal(ranged.hex, want.toString('hex'), "the range holds the origin's bytes");
        },
      });
    });
  });
}

test('pause stops requests and keeps progress; resume completes the download', T, async () => {
  await withPage(
    async (page) => {
      const id = 'core-pause';
      await startDownload(page, id, manifest('template'), {bitrate: 1200000});
      await page.evaluate(
        (id) =>
          window.waitState(id, ['downloading']).then(
            () =>
              new Promise((resolve) => {
                const tick = () => (window.eventsOf(id, 'progress').some((e) => e.detail.segmentsDone > 0) ? resolve() : setTimeout(tick, 50));
                tick();
              }),
          ),
        id,
      );
      const paused = await page.evaluate((id) => window.om.pause(id), id);
      assert.equal(paused.state, 'paused');
      assert.equal(paused.stopReason, 'user');
      await sleep(800); // answers to requests abandoned at the pause arrive
      const settled = segmentRequests();
      const during = await summaryOf(page, id);
      await sleep(1200);
      assert.equal(segmentRequests(), settled, 'no segment request while paused');
      assert.equal(during.state, 'paused');
      assert.ok(during.progress > 0 && during.progress < 100, `progress ${during.progress}`);
      assert.equal((await summaryOf(page, id)).progress, during.progress, 'progress kept while paused');

      const resumed = await page.evaluate((id) => window.om.resume(id), id);
      assert.equal(resumed.state, 'downloading');
      assert.equal((await waitEnd(page, id)).state, 'completed');
      await checkStored(page, id, CONTENT_DIR);
    },
    {delayMs: 250},
  );
});

test('a download continues through a page reload and completes for the reloaded page', T, async () => {
  await withPage(
    async (page) => {
      const id = 'core-reload';
      await startDownload(page, id, manifest('timeline'), {bitrate: 1200000});
      await page.evaluate((id) => window.waitState(id, ['downloading']), id);
      await page.reload();
      await page.evaluate(() => window.setup());
      const during = await summaryOf(page, id);
      assert.equal(during.state, 'downloading', 'still downloading after the reload');
      assert.equal((await waitEnd(page, id)).state, 'completed');
      const last = (await page.evaluate((id) => window.eventsOf(id, 'progress'), id)).at(-1)?.detail;
      assert.ok(last, 'the reloaded page got progress events');
      assert.equal(last.segmentsDone, last.segmentsTotal);
      await checkStored(page, id, CONTENT_DIR);
    },
    {delayMs: 400},
  );
});

test('remove deletes an entry and every record of it; removeAll cancels a running download too', T, async () => {
  await withPage(async (page) => {
    await startDownload(page, 'core-rm', manifest('template'));
    assert.equal((await waitEnd(page, 'core-rm')).state, 'completed');
    const local = (await page.evaluate(() => window.om.getDownloadedMediaConfig('core-rm'))).sources.dash[0].url;
    assert.equal(await page.evaluate((u) => fetch(u).then((r) => r.status), local), 200);
    assert.deepEqual(await page.evaluate(() => window.om.remove('core-rm')), {entryId: 'core-rm'});
    assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
    servers.app.requests.length = 0;
    assert.equal(await page.evaluate((u) => fetch(u).then((r) => r.status), local), 404);
    assert.deepEqual(localRequestsReachingServer(), [], "the worker answered the removed entry's URL");
    assert.deepEqual(await recordsOf(page, 'core-rm'), {entry: false, items: 0});

    await startDownload(page, 'core-all-1', manifest('list'));
    assert.equal((await waitEnd(page, 'core-all-1')).state, 'completed');
    proxy.addRule({match: SEGMENTS, action: 'delay', delayMs: 300});
    await startDownload(page, 'core-all-2', manifest('base'), {bitrate: 1200000});
    const removed = await page.evaluate(() => window.om.removeAll());
    assert.deepEqual([...removed.entryIds].sort(), ['core-all-1', 'core-all-2']);
    await sleep(1000);
    const settled = segmentRequests();
    await sleep(1000);
    assert.equal(segmentRequests(), settled, 'no segment request after removeAll');
    assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
    for (const id of ['core-all-1', 'core-all-2']) {
      assert.deepEqual(await recordsOf(page, id), {entry: false, items: 0}, `no record of ${id} left`);
    }
  });
});

const MiB = 1024 * 1024;
test('a download over the quota pauses with reason quota and 9011, keeping only whole segments', {
  ...T,
  skip: !engine.can.quota && engine.why.quota,
}, async () => {
  // Random bytes: IndexedDB compresses what it stores. 40 x 256 KiB against a 6 MiB quota.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-quota-'));
  fs.mkdirSync(path.join(dir, 'random'));
  fs.writeFileSync(path.join(dir, 'random/manifest.mpd'), templateMpd(40));
  fs.writeFileSync(path.join(dir, 'random/init.m4s'), crypto.randomBytes(1000));
  for (let n = 1; n <= 40; n++) fs.writeFileSync(path.join(dir, `random/seg-${n}.m4s`), crypto.randomBytes(256 * 1024));
  const media = await startMediaServer({contentDir: dir});
  const tight = await openEngine(ENGINE, {quotaBytes: 6 * MiB});
  try {
    await withPage(
      async (page) => {
        await startDownload(page, 'core-full', `${media.url}/content/random/manifest.mpd`);
        const paused = await page.evaluate(() => window.waitState('core-full', ['paused', 'completed', 'failed'], 60000));
        assert.deepEqual({state: paused.state, stopReason: paused.stopReason}, {state: 'paused', stopReason: 'quota'});
        const error = await page.evaluate(() => window.waitError('core-full'));
        assert.equal(error.code, 9011, JSON.stringify(error));
        assert.equal(error.data.name, 'QuotaExceededError', JSON.stringify(error));
        const {planned, stored, storedBytes} = await checkStored(page, 'core-full', dir, {complete: false});
        assert.ok(stored.length < planned.length, `${stored.length} of ${planned.length} segments fit`);
        assert.equal((await summaryOf(page, 'core-full')).size, storedBytes, 'the size reported is what is stored');
      },
      {eng: tight},
    );
  } finally {
    await tight.close();
    await media.stop();
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

// Slow segments until the worker has been restarted three times, then full speed: engines whose
// kill takes long (WebKit: the page leaves, and the worker dies ~10 s after its last client)
// would otherwise finish first. stopWorkers may leave a fresh document (WebKit), so the page's
// OfflineManager is set up again when gone, and the state is read from the worker, not events.
test('a download survives repeated worker kills with every segment stored once and right, and a cold worker serves it', {
  ...T,
  timeout: 300_000,
  skip: !engine.can.stopWorkers && engine.why.stopWorkers,
}, async () => {
  const killable = await openEngine(ENGINE, {workerKills: true});
  const ensureSetup = (page) => page.evaluate(() => window.om || window.setup({keepAliveMs: 1000}));
  try {
    await withPage(
      async (page) => {
        const id = 'core-killed';
        await startDownload(page, id, `${proxy.url}/content/many/manifest.mpd`);
        const starts = new Set([(await page.evaluate(() => window.ping())).startedAt]);
        const state = async () => (await summaryOf(page, id))?.state;
        const t0 = Date.now();
        while (starts.size <= 3 && !['completed', 'failed'].includes(await state())) {
          assert.ok(Date.now() - t0 < 240_000, `no end state after 240 s and ${starts.size - 1} restarts`);
          await sleep(1500 + Math.random() * 1500);
          await killable.stopWorkers(page);
          await ensureSetup(page);
          const ping = await page.evaluate(() => window.ping().catch(() => null));
          if (ping) starts.add(ping.startedAt);
        }
        const restarts = starts.size - 1;
        console.log(`${ENGINE} worker kills: ${restarts} restarts seen in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        assert.ok(restarts >= 3, `only ${restarts} worker restarts before the download ended`);
        proxy.clearRules();
        for (let i = 0; i < 300 && !['completed', 'failed'].includes(await state()); i++) await sleep(200);
        const end = await summaryOf(page, id);
        assert.equal(end.state, 'completed', JSON.stringify(end));
        assert.equal(end.progress, 100);
        const {entry} = await checkStored(page, id, CONTENT_DIR);

        // A cold worker: whole segment (the bootstrap's path) and a range (the wasm's) both right.
        const local = (await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id)).sources.dash[0].url;
        await killable.stopWorkers(page);
        const track = entry.plan.tracks.find((t) => t.segments.length > 1);
        const want = originBytes(CONTENT_DIR, track.segments[1].url, track.segments[1].range);
        const got = await page.evaluate(
          async (url) => {
            const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
            const whole = await fetch(url);
            const part = await fetch(url, {headers: {Range: 'bytes=-16'}});
            return {whole: [whole.status, hex(await whole.arrayBuffer())], part: [part.status, hex(await part.arrayBuffer())]};
          },
          local.replace(/manifest\.mpd$/, `${track.key}/2`),
        );
        assert.deepEqual(got.whole, [200, want.toString('hex')]);
        assert.deepEqual(got.part, [206, want.subarray(want.length - 16).toString('hex')]);
      },
      {eng: killable, options: {keepAliveMs: 1000}, delayMs: 2000},
    );
  } finally {
    await killable.close();
  }
});

test('an encrypted stream plays offline in shaka-player and dash.js with the ClearKey licence the worker kept', {
  ...T,
  skip: !features.clearKey && 'this engine has no EME ClearKey (requestMediaKeySystemAccess refuses or is missing)',
}, async () => {
  prepareEncryptedContent();
  const lic = await startClearKeyServer({keys: KEYS});
  try {
    await withPage(async (page) => {
      const config = {
        id: 'core-enc',
        sources: {
          dash: [
            {
              url: `${servers.media.url}/content/encrypted/manifest.mpd`,
              mimetype: 'application/dash+xml',
              drmData: [{scheme: 'org.w3.clearkey', licenseUrl: lic.licenseUrl}],
            },
          ],
        },
      };
      await page.evaluate((c) => window.om.getMediaConfig(c), config);
      await page.evaluate(() => window.om.download('core-enc'));
      assert.equal((await waitEnd(page, 'core-enc')).state, 'completed');
      assert.equal(lic.requests.filter((r) => r.status === 200).length, 1, 'the worker asked for the licence once');
      await lic.stop();
      const stored = await page.evaluate(() => window.om.getDownloadedMediaConfig('core-enc'));
      assert.match(stored.localLicenseUrl, /__offline__\/core-enc\/license$/);
      await playOffline(page, 'core-enc', {seconds: 2, clearKey: true});
    });
  } finally {
    await lic.stop().catch(() => {});
  }
});

test('where the engine has no EME ClearKey, an encrypted stream is refused with 9009 before any segment is fetched', {
  ...T,
  skip: features.clearKey && 'this engine has EME ClearKey: the stream is stored and played (test above)',
}, async () => {
  prepareEncryptedContent();
  await withPage(async (page) => {
    const before = segmentRequests();
    const config = {
      id: 'core-enc-no-eme',
      sources: {
        dash: [
          {
            url: `${proxy.url}/content/encrypted/manifest.mpd`,
            mimetype: 'application/dash+xml',
            drmData: [{scheme: 'org.w3.clearkey', licenseUrl: 'http://127.0.0.1:9/license'}],
          },
        ],
      },
    };
    await page.evaluate((c) => window.om.getMediaConfig(c), config);
    const error = await page.evaluate(() =>
      window.om.download('core-enc-no-eme').then(
        () => null,
        (e) => JSON.parse(JSON.stringify(e)),
      ),
    );
    assert.equal(error?.code, 9009, JSON.stringify(error));
    assert.match(error.data.message, /no EME/);
    assert.equal(segmentRequests(), before, 'no segment was fetched');
  });
});
