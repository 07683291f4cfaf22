// Serving benchmark: segment requests for a stored entry answered by our
// worker, beside the same segments from the loopback media server and from a plain Cache Storage
// worker (pages/cache-sw.js, the way Workbox answers), and our worker's wasm memory after serving
// 100 and 1,000 segments.
//
//   node tests/bench/serve-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// Three origins, one tab each, in one Chromium with a profile on disk:
//   ours      ours.html; two entries of the template stream (360p and 720p renditions) stored
//             through window.OfflineManager; requests go to /__offline__/{entry}/{track}/{index}
//   cache     peer.html controlled by cache-sw.js; the same segment bytes put in Cache Storage
//             under /bench/seg/N
//   loopback  peer.html with no worker; the segments' original URLs on the media server
// Every request is fetch(url, {cache: 'no-store'}) + arrayBuffer(), timed in the page with
// performance.now(). After one untimed pass each, 30 rounds of 10 requests per source, the order of
// the sources rotating each round, walk the same segment list: 300 timed requests each.
// Memory: ping → result.wasmMemoryBytes after the first 100 segments our worker served, and
// again after 1,000 (the 300 timed ones and untimed ones after them). Goal: flat.

import {pathToFileURL} from 'node:url';
import {median, notMeasured, openPage, percentile, row, startEnv, storeEntry, templateMpd} from './bench-env.mjs';

const ROUNDS = 30;
const BATCH = 10;
const MEMORY_FIRST = 100;
const MEMORY_LAST = 1000;

/** Requests urls[(start + i) % n] for i < count from `page`; returns the times. */
function serve(page, urls, start, count) {
  const list = Array.from({length: count}, (_, i) => urls[(start + i) % urls.length]);
  return page.evaluate((list) => window.bench.fetchTimes(list), list);
}

async function wasmMemory(page) {
  const result = await page.evaluate(() => window.bench.ping());
  return typeof result?.wasmMemoryBytes === 'number' ? result.wasmMemoryBytes : null;
}

export async function run() {
  const env = await startEnv({origins: 3});
  try {
    const [oursOrigin, cacheOrigin, plainOrigin] = env.origins;
    const ours = await openPage(env.context, `${oursOrigin.url}/bench/ours.html`);
    const mpdUrl = templateMpd(env.media);
    const segments = [
      ...(await storeEntry(ours, {entryId: 'serve-360', mpdUrl, options: {bitrate: 400000}})),
      ...(await storeEntry(ours, {entryId: 'serve-720', mpdUrl, options: {bitrate: 1200000}})),
    ];
    if (segments.some((s) => s.range)) throw new Error('expected whole-file segments (template stream)');
    const bytes = segments.reduce((a, s) => a + s.size, 0);
    console.error(`serve: ${segments.length} stored segments, ${(bytes / segments.length / 1024).toFixed(0)} KiB on average`);

    const cache = await openPage(env.context, `${cacheOrigin.url}/bench/peer.html`);
    await cache.evaluate(() => window.bench.registerWorker('/bench/cache-sw.js'));
    await cache.evaluate(
      (items) => window.bench.cacheStore(items),
      segments.map((s, i) => ({key: `/bench/seg/${i}`, url: s.url, type: s.type})),
    );
    const loopback = await openPage(env.context, `${plainOrigin.url}/bench/peer.html`);

    const sources = [
      {name: 'ours', page: ours, urls: segments.map((s) => s.local), times: []},
      {name: 'cache', page: cache, urls: segments.map((_, i) => `${cacheOrigin.url}/bench/seg/${i}`), times: []},
      {name: 'loopback', page: loopback, urls: segments.map((s) => s.url), times: []},
    ];
    const [o, c, l] = sources;

    // Untimed: our first 100 served segments (then the memory figure), one pass for the peers.
    await serve(ours, o.urls, 0, MEMORY_FIRST);
    let served = MEMORY_FIRST;
    const memoryFirst = await wasmMemory(ours);
    await serve(cache, c.urls, 0, segments.length);
    await serve(loopback, l.urls, 0, segments.length);

    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < sources.length; k++) {
        const s = sources[(r + k) % sources.length];
        s.times.push(...(await serve(s.page, s.urls, r * BATCH, BATCH)));
      }
    }
    served += ROUNDS * BATCH;
    await serve(ours, o.urls, served, MEMORY_LAST - served);
    const memoryLast = await wasmMemory(ours);

    const stat = (s, p) => percentile(s.times, p);
    console.error(
      `serve: p50 ours ${median(o.times).toFixed(2)} ms, cache worker ${median(c.times).toFixed(2)} ms, `
        + `loopback ${median(l.times).toFixed(2)} ms (${o.times.length} requests each)`,
    );
    const rows = [
      row('serve segment p50 vs loopback', 'ms', stat(o, 50), 'loopback HTTP server', stat(l, 50), 'ratio ≤ 1.0'),
      row('serve segment p50 vs Cache Storage', 'ms', stat(o, 50), 'Cache Storage worker', stat(c, 50), 'ratio ≤ 1.1'),
      row('serve segment p95 vs loopback', 'ms', stat(o, 95), 'loopback HTTP server', stat(l, 95)),
      row('serve segment p95 vs Cache Storage', 'ms', stat(o, 95), 'Cache Storage worker', stat(c, 95)),
    ];
    rows[0].met = rows[0].ratio <= 1.0;
    rows[1].met = rows[1].ratio <= 1.1;
    const memName = `wasm memory after ${MEMORY_LAST} served`;
    if (memoryFirst === null || memoryLast === null) {
      rows.push(notMeasured(memName, 'bytes', "the worker's ping reply has no wasmMemoryBytes", 'flat (ratio = 1)'));
    } else {
      const m = row(memName, 'bytes', memoryLast, `ours after ${MEMORY_FIRST}`, memoryFirst, 'flat (ratio = 1)');
      m.met = memoryLast <= memoryFirst;
      rows.push(m);
    }
    return rows;
  } finally {
    await env.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 1));
}
