// A new build of the worker deployed while a download runs, in every engine. The app server
// serves the worker scripts with `// build N` appended (setWorkerBuild: same code, other bytes),
// so the browser's update check installs a new worker beside the running one:
// - the standalone worker (dist/offline-manager-sw.js) skips waiting and claims the page: the
//   old worker is replaced at once, while the page plays a stored title;
// - a worker embedded in the app's own worker (tests/pages/embedded-sw.js, `self.OFFLINE_MANAGER`
//   set, so no skipWaiting) waits while the app's page is open, and takes over once it is gone.
// Either way the download completes once, every segment is stored once with the origin's bytes,
// no segment is fetched by two workers at the same time (the fault proxy logs when each answer
// started and ended), and the page sees no error event and no rejected call. The standalone
// switch runs with the same wasm and with a new one (setWorkerBuild(n, {wasm: true})); an old
// embedded worker restarted while a new-wasm build waits starts from its own cached wasm. A page
// whose shim speaks another protocol version is told so with 9002 naming both versions.
// Each test logs what it measured: the requests cut and fetched again ("ms": start and end of
// each, from the switch), and which worker sent the progress events (0 = the page's controller
// when it began watching, 1 = the next one it heard from).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {build} from 'esbuild';
import {ENGINE} from './engines.mjs';
import {SEGMENTS, startWorld} from './world.mjs';
import {CONTENT_DIR, ROOT} from '../e2e/harness.mjs';
import {checkStored, sleep, startDownload, summaryOf} from '../e2e/engine-helpers.mjs';

const world = await startWorld();
const {servers, proxy, withPage, waitEnd} = world;

const T = {timeout: 240_000};
/** 60 s of 1 s segments, video and audio: 122 items. */
const MANY = `${proxy.url}/content/many/manifest.mpd`;

let workerBuild = 0;
/** The app ships a new build: the worker scripts the server sends change (`{wasm: true}`: its wasm too). */
const shipNewBuild = (o) => servers.app.setWorkerBuild(++workerBuild, o);

/**
 * In the page: records which worker sent each event (its message's `source`, numbered in the
 * order seen; worker 0 is the controller at the start) and that worker's state then, the
 * controller changes, the page's own uncaught errors, and every call of a poller that asks the
 * worker for its downloads every 250 ms (a call the page makes during the switch).
 */
function watchWorkers() {
  const w = {workers: [], events: [], controllerChanges: [], pageErrors: [], calls: 0, rejected: []};
  window.watch = w;
  const number = (sw) => {
    if (!sw) return -1;
    if (!w.workers.includes(sw)) w.workers.push(sw);
    return w.workers.indexOf(sw);
  };
  number(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('message', (e) => {
    const d = e.data;
    if (d?.kind !== 'event') return;
    w.events.push({
      worker: number(e.source),
      workerState: e.source?.state ?? null,
      type: d.type,
      entryId: d.detail?.entryId ?? d.detail?.data?.entryId,
      state: d.detail?.state,
      segmentsDone: d.detail?.segmentsDone,
      at: Date.now(),
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () =>
    w.controllerChanges.push({worker: number(navigator.serviceWorker.controller), at: Date.now()}),
  );
  window.addEventListener('error', (e) => w.pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => w.pageErrors.push(String(e.reason?.message ?? e.reason)));
  w.poller = setInterval(() => {
    w.calls += 1;
    window.om.getAllDownloads().catch((e) => w.rejected.push(JSON.parse(JSON.stringify(e))));
  }, 250);
  return true;
}

/** What watchWorkers recorded, as plain data (the poller stopped). */
const watched = (page) =>
  page.evaluate(() => {
    const {workers, poller, ...rest} = window.watch;
    clearInterval(poller);
    return {...rest, workerStates: workers.map((sw) => sw.state)};
  });

/** In the page: plays `url` in shaka-player without waiting, sampling currentTime every 250 ms. */
async function startPlaying(url) {
  shaka.polyfill.installAll();
  const video = document.getElementById('video');
  const player = new shaka.Player();
  await player.attach(video);
  const p = {errors: [], samples: []};
  window.playing = p;
  player.addEventListener('error', (e) => p.errors.push(String(e.detail?.code ?? e)));
  video.addEventListener('error', () => p.errors.push(`video: ${video.error?.message}`));
  await player.load(url);
  video.muted = true;
  await video.play().catch((e) => p.errors.push(`play: ${e}`));
  p.timer = setInterval(() => p.samples.push({at: Date.now(), t: video.currentTime}), 250);
  return true;
}

/** The pings' `startedAt`: tells one worker instance from another. */
const startedAt = (page) => page.evaluate(() => window.ping().then((p) => p.startedAt));

/** Waits (in the page) until `entryId` has stored `n` segments by the events the page got. */
const waitSegments = (page, entryId, n) =>
  page.evaluate(
    ({entryId, n}) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          if (window.eventsOf(entryId, 'progress').some((e) => e.detail.segmentsDone >= n)) return resolve();
          if (Date.now() - t0 > 60_000) return reject(new Error(`${entryId}: ${n} segments not stored in 60 s`));
          setTimeout(tick, 50);
        };
        tick();
      }),
    {entryId, n},
  );

/**
 * The proxy's segment requests from index `since` on, by URL and range: how many segments, those
 * asked for more than once (with whether each answer went out whole), and those whose answers
 * overlapped in time (two fetchers at once).
 */
function segmentLog(since, t0 = 0) {
  const groups = new Map();
  for (const r of proxy.requests.slice(since)) {
    if (!SEGMENTS.test(r.url) || r.method !== 'GET') continue;
    const key = `${r.url} ${r.range ?? ''}`.trim();
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const overlap = (a, b) => a.at < (b.endedAt ?? Infinity) && b.at < (a.endedAt ?? Infinity);
  const many = [...groups].filter(([, rs]) => rs.length > 1);
  return {
    requests: [...groups.values()].reduce((n, rs) => n + rs.length, 0),
    segments: groups.size,
    refetched: many.map(([key, rs]) => ({key, whole: rs.map((r) => r.whole), ms: rs.map((r) => [r.at - t0, r.endedAt - t0])})),
    overlapping: many.filter(([, rs]) => rs.some((a, i) => rs.slice(i + 1).some((b) => overlap(a, b)))).map(([key]) => key),
  };
}

/** The shared end of both switch tests: one 'completed', the origin's bytes, no double fetch. */
async function checkCompletedOnce(page, id, since, label, switchedAt = 0) {
  const end = await waitEnd(page, id, 120_000);
  assert.equal(end.state, 'completed', JSON.stringify(end));
  await sleep(1500); // a second 'completed' from the other worker would arrive by now
  const seen = await watched(page);
  const completed = seen.events.filter((e) => e.entryId === id && e.type === 'statechange' && e.state === 'completed');
  assert.equal(completed.length, 1, `one 'completed': ${JSON.stringify(completed)}`);
  assert.deepEqual(await page.evaluate(() => window.events.filter((e) => e.type === 'error')), [], 'no error event');
  assert.deepEqual(seen.pageErrors, [], 'no uncaught error in the page');
  assert.deepEqual(seen.rejected, [], `none of the page's ${seen.calls} calls during the switch was rejected`);
  assert.ok(seen.calls > 4, `${seen.calls} calls made`);
  await checkStored(page, id, CONTENT_DIR);
  const log = segmentLog(since, switchedAt);
  assert.deepEqual(log.overlapping, [], 'no segment was fetched by two workers at once');
  const byWorker = {};
  for (const e of seen.events.filter((e) => e.entryId === id && e.type === 'progress')) byWorker[e.worker] = (byWorker[e.worker] ?? 0) + 1;
  console.log(
    `${ENGINE} ${label}: ${log.segments} segments in ${log.requests} requests; refetched ${JSON.stringify(log.refetched)}; `
      + `progress events by worker ${JSON.stringify(byWorker)}; 'completed' from worker ${completed[0].worker} (${completed[0].workerState}); `
      + `worker states now ${JSON.stringify(seen.workerStates)}`,
  );
  return {seen, log, completed: completed[0]};
}

/** In the page: the names of the worker's wasm caches (one per wasm build). */
const wasmCaches = (page) => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('offline-manager-wasm-')).sort());

for (const wasm of [false, true]) {
  const what = wasm ? 'with a new wasm' : 'with the same wasm';
  test(
    `a new standalone worker ${what} takes over at once while a download runs: it completes once, every segment stored once, and a stored title keeps playing`,
    T,
    async () => {
      await withPage(async (page) => {
        // A stored title to play during the switch.
        await startDownload(page, 'update-film', MANY);
        assert.equal((await waitEnd(page, 'update-film')).state, 'completed');
        const film = (await page.evaluate(() => window.om.getDownloadedMediaConfig('update-film'))).sources.dash[0].url;
        await page.evaluate(startPlaying, film);
        const oldCaches = await wasmCaches(page);
        assert.equal(oldCaches.length, 1, JSON.stringify(oldCaches));

        const id = 'update-standalone';
        const rule = proxy.addRule({match: SEGMENTS, action: 'delay', delayMs: 400});
        const since = proxy.requests.length;
        await page.evaluate(watchWorkers);
        const oldStart = await startedAt(page);
        await startDownload(page, id, MANY);
        await waitSegments(page, id, 8);

        shipNewBuild({wasm});
        const switchedAt = await page.evaluate(async () => {
          await (await navigator.serviceWorker.getRegistration()).update();
          const t0 = Date.now();
          while (!window.watch.controllerChanges.length) {
            if (Date.now() - t0 > 30_000) throw new Error('no controllerchange within 30 s of update()');
            await new Promise((r) => setTimeout(r, 50));
          }
          return window.watch.controllerChanges[0].at;
        });
        const midway = await summaryOf(page, id);
        assert.notEqual(await startedAt(page), oldStart, 'a new worker instance answers the page');
        assert.equal(midway.state, 'downloading', `the switch came before the end: ${JSON.stringify(midway)}`);

        const {seen} = await checkCompletedOnce(page, id, since, `standalone ${what} (skipWaiting + claim)`, switchedAt);
        assert.deepEqual(
          seen.controllerChanges.map((c) => c.worker),
          [1],
          'the page went from the old worker to the new one, once',
        );
        const firstNew = seen.events.find((e) => e.entryId === id && e.type === 'progress' && e.worker === 1);
        console.log(`${ENGINE} standalone ${what}: the new worker's first progress came ${firstNew.at - switchedAt} ms after the controller changed`);
        proxy.removeRule(rule);
        const newCaches = await wasmCaches(page);
        if (wasm) {
          assert.equal(newCaches.length, 1, `only the new wasm's cache is kept: ${newCaches}`);
          assert.notDeepEqual(newCaches, oldCaches, 'the new worker keeps its own wasm');
        } else {
          assert.deepEqual(newCaches, oldCaches, 'the same wasm, the same cache');
        }

        // The title kept playing across the switch: currentTime moved on for 3 s after it.
        await page.evaluate(
          ({switchedAt}) =>
            new Promise((resolve) => {
              const tick = () => {
                const last = window.playing.samples.at(-1);
                const at = window.playing.samples.find((s) => s.at >= switchedAt);
                if ((last && at && last.t - at.t > 3) || window.playing.errors.length) return resolve();
                setTimeout(tick, 250);
              };
              setTimeout(resolve, 15_000);
              tick();
            }),
          {switchedAt},
        );
        const playing = await page.evaluate(() => {
          clearInterval(window.playing.timer);
          return {errors: window.playing.errors, samples: window.playing.samples};
        });
        assert.deepEqual(playing.errors, [], 'the player reported no error');
        const before = playing.samples.filter((s) => s.at < switchedAt).at(-1);
        const after = playing.samples.at(-1);
        assert.ok(before && before.t > 0, `it played before the switch: ${JSON.stringify(before)}`);
        assert.ok(after.t - before.t > 3, `currentTime went on across the switch: ${before.t} -> ${after.t}`);
        for (const [i, s] of playing.samples.entries()) assert.ok(i === 0 || s.t >= playing.samples[i - 1].t, 'currentTime never went back');
      });
    },
  );
}

const EMBEDDED = {serviceWorkerUrl: '/pages/embedded-sw.js'};

/** The page's registration: its workers' states and whether the page is controlled. */
const registration = (page) =>
  page.evaluate(async () => {
    const r = await navigator.serviceWorker.getRegistration();
    return {
      scope: r?.scope,
      active: r?.active?.state ?? null,
      waiting: r?.waiting?.state ?? null,
      installing: r?.installing?.state ?? null,
      controlled: Boolean(navigator.serviceWorker.controller),
    };
  });

/**
 * With the embedded worker controlling the page (a second visit: the first registers it, and it
 * claims nothing), starts downloading `id` slowly, then ships a new build (`wasm`: with a new
 * wasm) and waits until the browser has installed it beside the old one. Gives what the test
 * needs next.
 */
async function embeddedUpdateWaiting(page, id, {wasm}) {
  const pages = `${servers.app.url}/pages/`;
  await page.evaluate(() => window.om.getAllDownloads());
  await page.reload();
  await page.evaluate((o) => window.setup(o), EMBEDDED);
  await page.evaluate(() => window.om.getAllDownloads());
  assert.deepEqual(await registration(page), {scope: pages, active: 'activated', waiting: null, installing: null, controlled: true});

  const since = proxy.requests.length;
  await page.evaluate(watchWorkers);
  const oldStart = await startedAt(page);
  await startDownload(page, id, MANY, {bitrate: 400000, concurrency: 2});
  await waitSegments(page, id, 6);

  shipNewBuild({wasm});
  await page.evaluate(async () => {
    const r = await navigator.serviceWorker.getRegistration();
    await r.update();
    for (const t0 = Date.now(); !r.waiting; await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() - t0 > 30_000) throw new Error('the new build was not installed within 30 s of update()');
    }
  });
  const waitingFrom = await summaryOf(page, id);
  await sleep(3000);
  assert.deepEqual(
    await registration(page),
    {scope: pages, active: 'activated', waiting: 'installed', installing: null, controlled: true},
    'the new build waits',
  );
  const later = await summaryOf(page, id);
  assert.ok(later.progress > waitingFrom.progress, `the old worker goes on downloading meanwhile: ${waitingFrom.progress} -> ${later.progress} %`);
  assert.equal(await startedAt(page), oldStart, 'the old worker still answers');
  return {since, oldStart};
}

/**
 * The app's page goes away, so the waiting build activates (once no page uses the old one), and
 * comes back. Back too early, it finds the old worker still in control: then it leaves for longer.
 * Gives how long it was away in all.
 */
async function leaveUntilNewBuild(page) {
  let away = 0;
  let back;
  for (const ms of [1000, 3000, 12_000]) {
    await page.goto('about:blank');
    await sleep(ms);
    away += ms;
    await page.goto(`${servers.app.url}/pages/core.html`);
    await page.evaluate((o) => window.setup(o), EMBEDDED);
    back = await registration(page);
    if (back.waiting === null) break;
  }
  assert.deepEqual(
    back,
    {scope: `${servers.app.url}/pages/`, active: 'activated', waiting: null, installing: null, controlled: true},
    'the new build took over',
  );
  return away;
}

test(
  'a new embedded worker waits while the app page is open, then takes over the download once the page is gone: it completes once, every segment stored once',
  T,
  async () => {
    await withPage(
      async (page) => {
        const id = 'update-embedded';
        const {since, oldStart} = await embeddedUpdateWaiting(page, id, {wasm: false});
        const stillOld = await watched(page);
        assert.deepEqual(stillOld.controllerChanges, [], 'the page stays with the old worker');
        assert.deepEqual(stillOld.rejected, []);
        assert.deepEqual(stillOld.pageErrors, []);

        const leftAt = Date.now();
        const away = await leaveUntilNewBuild(page);
        await page.evaluate(watchWorkers);
        assert.notEqual(await startedAt(page), oldStart, 'a new worker instance answers the page');
        const midway = await summaryOf(page, id);
        assert.equal(midway.state, 'downloading', `the page came back before the end: ${JSON.stringify(midway)}`);
        console.log(`${ENGINE} embedded: the new build took over after the page was away ${away} ms in all; back at ${midway.progress} %`);
        await checkCompletedOnce(page, id, since, 'embedded (no skipWaiting)', leftAt);
      },
      {options: EMBEDDED, delayMs: 500},
    );
  },
);

test('an old embedded worker restarted while a new build with a new wasm waits starts from its own wasm and finishes the download; the new build then serves it and keeps only its own wasm', {
  ...T,
  skip:
    (!world.engine.can.stopWorkers && world.engine.why.stopWorkers)
    || (ENGINE === 'webkit'
      && "WebKit's worker stop here takes the page away until the worker is terminated (WebDriver has no worker command), which lets the waiting build take over: the old one cannot be restarted while it keeps the page"),
}, async () => {
  await withPage(
    async (page) => {
      const id = 'update-restarted';
      const {since, oldStart} = await embeddedUpdateWaiting(page, id, {wasm: true});
      const both = await wasmCaches(page);
      assert.equal(both.length, 2, `the new build cached its wasm beside the old one's: ${both}`);

      const stoppedAt = Date.now();
      await world.engine.stopWorkers(page);
      const restarted = await startedAt(page);
      assert.notEqual(restarted, oldStart, 'the old worker was restarted');
      assert.equal((await registration(page)).waiting, 'installed', 'the new build still waits');
      const {seen} = await checkCompletedOnce(page, id, since, 'embedded, old worker restarted while a new wasm waits', stoppedAt);
      assert.deepEqual(seen.controllerChanges, [], 'the old worker finished it');
      assert.deepEqual(await wasmCaches(page), both, 'both wasm caches are kept while the new build waits');

      await leaveUntilNewBuild(page);
      let caches = await wasmCaches(page);
      for (let i = 0; i < 50 && caches.length > 1; i++) {
        await sleep(100); // Firefox: the new build deletes the old wasm at its first wake (see bootstrap.js)
        caches = await wasmCaches(page);
      }
      assert.equal(caches.length, 1, `only the new wasm's cache is kept: ${caches}`);
      assert.ok(both.includes(caches[0]));
      const local = (await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id)).sources.dash[0].url;
      const {entry} = await page.evaluate((id) => window.readStore(id), id);
      const segment = local.replace(/manifest\.mpd$/, `${entry.plan.tracks[0].key}/1`);
      const served = await page.evaluate(
        async ({local, segment}) => {
          const manifest = await fetch(local);
          const r = await fetch(segment);
          return {manifest: manifest.status, segment: r.status, bytes: (await r.arrayBuffer()).byteLength};
        },
        {local, segment},
      );
      assert.equal(served.manifest, 200);
      assert.equal(served.segment, 200, JSON.stringify(served));
      assert.ok(served.bytes > 0);
    },
    {options: {...EMBEDDED, keepAliveMs: 1000}, delayMs: 500},
  );
});

const OTHER_VERSION = '0.0.0-other';

/**
 * The page shim of another release: page-shim/src bundled as a plain script (global
 * `OtherRelease`) with PROTOCOL_VERSION = `protocol` and package version `version`.
 */
async function otherShim(protocol, version) {
  const out = await build({
    entryPoints: [path.join(ROOT, 'page-shim/src/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'OtherRelease',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'other-protocol',
        setup(b) {
          b.onLoad({filter: /generated[\\/]protocol\.ts$/}, async (args) => {
            const text = await fs.promises.readFile(args.path, 'utf8');
            const changed = text.replace(/PROTOCOL_VERSION = \d+/, `PROTOCOL_VERSION = ${protocol}`);
            assert.notEqual(changed, text, 'PROTOCOL_VERSION is in the generated protocol');
            return {contents: changed, loader: 'ts'};
          });
        },
      },
    ],
  });
  return out.outputFiles[0].text.replaceAll('__OM_VERSION__', version);
}

test("a page whose shim speaks another protocol version gets 9002 naming both versions, while the page speaking the worker's own is served", T, async () => {
  await withPage(async (page) => {
    await page.evaluate(() => window.om.getAllDownloads());
    // A raw request of protocol 999, straight to the worker.
    const raw = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const channel = new MessageChannel();
      const reply = new Promise((resolve, reject) => {
        channel.port1.onmessage = (e) => resolve(e.data);
        setTimeout(() => reject(new Error('no reply in 10 s')), 10_000);
      });
      registration.active.postMessage({v: 999, id: 42, type: 'list'}, [channel.port2]);
      return reply;
    });
    assert.equal(raw.id, 42);
    assert.equal(raw.ok, false);
    assert.equal(raw.v, 1, "the reply carries the worker's protocol");
    assert.equal(typeof raw.workerVersion, 'string');
    assert.deepEqual({severity: raw.error.severity, category: raw.error.category, code: raw.error.code}, {severity: 2, category: 9, code: 9002});
    assert.match(raw.error.data.message, /the page speaks offline-manager protocol 999 but this service worker \(package [^)]+\) speaks protocol 1;/);
    assert.match(raw.error.data.message, /reload the page/);

    // A page shim of another release, built from page-shim/src with protocol 2.
    const variant = await page.evaluate(
      async (source) => {
        const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
        await new Promise((resolve, reject) => {
          const s = document.createElement('script');
          s.src = url;
          s.onload = resolve;
          s.onerror = () => reject(new Error('the other shim did not load'));
          document.head.append(s);
        });
        const Other = window.OtherRelease.OfflineManager;
        const other = new Other({serviceWorkerUrl: '/offline-manager-sw.js'});
        const events = [];
        other.addEventListener('error', (e) => events.push(e.payload.detail));
        const error = await other.getAllDownloads().then(
          () => null,
          (e) => JSON.parse(JSON.stringify(e)),
        );
        await new Promise((r) => setTimeout(r, 50));
        other.destroy();
        return {error, events: JSON.parse(JSON.stringify(events)), ownStillWorks: Array.isArray(await window.om.getAllDownloads())};
      },
      await otherShim(2, OTHER_VERSION),
    );
    const {error} = variant;
    assert.ok(error, 'the call of the other shim is rejected');
    assert.deepEqual({severity: error.severity, category: error.category, code: error.code}, {severity: 2, category: 9, code: 9002});
    assert.equal(error.data.pageProtocol, 2);
    assert.equal(error.data.workerProtocol, 1);
    assert.equal(error.data.pageVersion, OTHER_VERSION);
    assert.equal(error.data.workerVersion, raw.workerVersion);
    assert.match(error.data.message, /protocol 2\b.*protocol 1\b/);
    assert.match(error.data.message, /reload the page/);
    assert.deepEqual(variant.events, [error], 'the same error is dispatched as an error event');
    assert.equal(variant.ownStillWorks, true, 'the page shim of the same release is still served');
  });
});
