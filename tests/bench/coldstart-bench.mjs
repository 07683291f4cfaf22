// Worker cold-start benchmark: after CDP ServiceWorker.stopAllWorkers, the time
// from the page's fetch of a stored segment until it is answered (fetch + arrayBuffer, in the page,
// performance.now()), for our worker (wasm instantiated from Cache Storage, then IndexedDB) and
// for a plain JavaScript worker (pages/idb-sw.js) answering the same segments from IndexedDB.
//
//   node tests/bench/coldstart-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// Two origins, one tab each, one Chromium with a profile on disk. 20 rounds; in each, every
// worker is stopped, then our page fetches segment r; every worker is stopped again, then the
// plain worker's page fetches the same bytes. Both workers carry the same DevTools attachment
// (Playwright attaches to every worker), so both figures include that same overhead.
// Goal: our median ≤ 30 ms and ≤ 1.2 × the plain worker's.

import {pathToFileURL} from 'node:url';
import {median, openPage, row, startEnv, storeEntry, workerStopper, templateMpd} from './bench-env.mjs';

const ROUNDS = 20;
const SETTLE_MS = 200; // once every worker is stopped, before the fetch that starts one again

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function coldFetch(stop, page, url) {
  await stop();
  await sleep(SETTLE_MS);
  const [ms] = await page.evaluate((url) => window.bench.fetchTimes([url]), url);
  return ms;
}

export async function run() {
  const env = await startEnv({origins: 2});
  try {
    const [oursOrigin, plainOrigin] = env.origins;
    const ours = await openPage(env.context, `${oursOrigin.url}/bench/ours.html`);
    const segments = await storeEntry(ours, {entryId: 'cold-360', mpdUrl: templateMpd(env.media), options: {bitrate: 400000}});
    const media = segments.filter((s) => s.index > 0);

    const plain = await openPage(env.context, `${plainOrigin.url}/bench/peer.html`);
    await plain.evaluate(() => window.bench.registerWorker('/bench/idb-sw.js'));
    await plain.evaluate(
      (items) => window.bench.idbStore(items),
      media.map((s, i) => ({key: `/bench/idb/${i}`, url: s.url, type: s.type})),
    );

    const stop = await workerStopper(env.context, ours);
    const oursTimes = [];
    const plainTimes = [];
    // One untimed round each: the first start after install can differ (code caches).
    await coldFetch(stop, ours, media[0].local);
    await coldFetch(stop, plain, `${plainOrigin.url}/bench/idb/0`);
    for (let r = 0; r < ROUNDS; r++) {
      const i = r % media.length;
      oursTimes.push(await coldFetch(stop, ours, media[i].local));
      plainTimes.push(await coldFetch(stop, plain, `${plainOrigin.url}/bench/idb/${i}`));
    }
    console.error(`coldstart: ours ${oursTimes.map((t) => t.toFixed(1)).join(' ')}`);
    console.error(`coldstart: plain ${plainTimes.map((t) => t.toFixed(1)).join(' ')}`);
    const r = row('worker cold start → segment', 'ms', median(oursTimes), 'plain JS IndexedDB worker', median(plainTimes), '≤ 30 ms and ratio ≤ 1.2');
    r.met = r.ours <= 30 && r.ratio <= 1.2;
    return [r];
  } finally {
    await env.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 1));
}
