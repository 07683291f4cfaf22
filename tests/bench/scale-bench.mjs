// The scale benchmark: does a library of 200 stored titles slow the worker down against 1?
// `om.getAllDownloads()` and a cold worker's first stored segment, each with 1 title and with
// 200 in the worker's database, in the same run and the same browser.
//
//   node tests/bench/scale-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// - One Chromium with a profile on disk, one bench origin, tests/bench/pages/ours.html.
// - 1 title: the template stream of tests/.content at 360p (download option bitrate 400000, as
//   coldstart-bench.mjs), downloaded for real through window.OfflineManager (`scale-000`).
// - 200 titles: from the page, its records copied in IndexedDB `offline-manager` (layout in
//   README.md "IndexedDB layout"; crates/engine/src/layout.rs) under 199 other entry ids
//   (`scale-001`..`scale-199`): the `entries` record (id replaced everywhere it appears), its
//   `segments` records (entryId replaced, the same Blobs, which IndexedDB copies), its `plans`,
//   `manifests` records and `licenses` (none for this clear stream). Then every worker is stopped,
//   so nothing the worker may keep in memory predates the copies, and getAllDownloads() must
//   list 200 completed entries.
// - Phases, in the order 1, 200, 1 (the clones deleted again), 200 (copied again); the figures
//   with 1 title pool both 1-title phases, those with 200 both 200-title phases.
//   - getAllDownloads: 3 untimed calls, then 15 timed (performance.now() in the page, from the
//     call to its promise) per phase; median. Back to back, as a page polling the library: the
//     worker counts the records once for all of them (a count stands for RECOUNT_MS, 1 s, in
//     crates/engine/src/manager/commands.rs).
//   - getAllDownloads spaced: then 5 more calls, each 1.5 s after the last, so each counts
//     every record again (a page listing now and then); median.
//   - cold first segment: 12 rounds per phase, as coldstart-bench.mjs: CDP
//     ServiceWorker.stopAllWorkers, 200 ms, then the page's fetch + arrayBuffer of the same
//     stored segment of `scale-000` (rotating over its media segments); median.
// Rows: each ratio 200 / 1, goal ≤ 1.2×.

import {pathToFileURL} from 'node:url';
import {median, openPage, row, startEnv, storeEntry, templateMpd, workerStopper} from './bench-env.mjs';

const SOURCE = 'scale-000';
const TITLES = 200;
const LIST_CALLS = 15;
const SPACED_CALLS = 5;
/** Longer than a record count stands in the worker (RECOUNT_MS). */
const SPACED_MS = 1500;
const COLD_ROUNDS = 12;
const SETTLE_MS = 200;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cloneIds = Array.from({length: TITLES - 1}, (_, i) => `scale-${String(i + 1).padStart(3, '0')}`);

/** In the page: copies entry `source`'s records under every id of `ids`, one transaction. */
async function pageClone({source, ids}) {
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const db = await request(indexedDB.open('offline-manager'));
  try {
    const names = [...db.objectStoreNames];
    const read = db.transaction(names, 'readonly');
    const range = IDBKeyRange.bound([source], [source, []]);
    const entry = await request(read.objectStore('entries').get(source));
    const segments = await request(read.objectStore('segments').getAll(range));
    const segmentKeys = await request(read.objectStore('segments').getAllKeys(range));
    const manifest = await request(read.objectStore('manifests').get(source));
    const plan = names.includes('plans') ? await request(read.objectStore('plans').get(source)) : undefined;
    const hasLicenses = names.includes('licenses');
    const licenses = hasLicenses ? await request(read.objectStore('licenses').getAll(range)) : [];
    const licenseKeys = hasLicenses ? await request(read.objectStore('licenses').getAllKeys(range)) : [];
    if (!entry || !manifest || segments.length === 0) throw new Error(`${source}: nothing to copy`);
    const encoded = `/${encodeURIComponent(source)}/`;
    const swap = (v, id) => {
      if (typeof v === 'string') return v === source ? id : v.split(encoded).join(`/${encodeURIComponent(id)}/`);
      if (Array.isArray(v)) return v.map((x) => swap(x, id));
      if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x, id)]));
      }
      return v; // Blobs, ArrayBuffers, numbers...
    };
    const tx = db.transaction(names, 'readwrite');
    for (const id of ids) {
      tx.objectStore('entries').put(swap(entry, id));
      // `segments` and `licenses` have out-of-line keys, [entryId, ...]: the same key, another id.
      segments.forEach((s, i) => {
        tx.objectStore('segments').put({...s, entryId: id}, [id, ...segmentKeys[i].slice(1)]);
      });
      tx.objectStore('manifests').put({...manifest, entryId: id});
      if (plan !== undefined) tx.objectStore('plans').put(swap(plan, id), id);
      licenses.forEach((l, i) => {
        tx.objectStore('licenses').put({...l, entryId: id}, [id, ...licenseKeys[i].slice(1)]);
      });
    }
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    });
    return {segmentsPerTitle: segments.length, bytesPerTitle: segments.reduce((n, s) => n + (s.size ?? 0), 0)};
  } finally {
    db.close();
  }
}

/** In the page: deletes every record of the entries `ids`. */
async function pageDelete({ids}) {
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const db = await request(indexedDB.open('offline-manager'));
  try {
    const names = [...db.objectStoreNames];
    const tx = db.transaction(names, 'readwrite');
    for (const id of ids) {
      const range = IDBKeyRange.bound([id], [id, []]);
      tx.objectStore('entries').delete(id);
      tx.objectStore('segments').delete(range);
      tx.objectStore('manifests').delete(id);
      if (names.includes('plans')) tx.objectStore('plans').delete(id);
      if (names.includes('licenses')) tx.objectStore('licenses').delete(range);
    }
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * In the page: `warm` untimed calls of getAllDownloads(), then `n` timed back to back, then
 * `spaced` timed each `gapMs` after the last; their ms, and the list size.
 */
async function pageListTimes({warm, n, spaced, gapMs}) {
  const om = window.bench.om();
  for (let i = 0; i < warm; i++) await om.getAllDownloads();
  let list = [];
  const timed = async (times) => {
    const t0 = performance.now();
    list = await om.getAllDownloads();
    times.push(performance.now() - t0);
  };
  const times = [];
  for (let i = 0; i < n; i++) await timed(times);
  const spacedTimes = [];
  for (let i = 0; i < spaced; i++) {
    await new Promise((r) => setTimeout(r, gapMs));
    await timed(spacedTimes);
  }
  return {times, spacedTimes, count: list.length, completed: list.filter((e) => e.state === 'completed').length};
}

export async function run(opts = {}) {
  const {log = (l) => console.error(l)} = opts;
  const env = await startEnv({origins: 1});
  try {
    const page = await openPage(env.context, `${env.origins[0].url}/bench/ours.html`);
    const segments = await storeEntry(page, {entryId: SOURCE, mpdUrl: templateMpd(env.media), options: {bitrate: 400000}});
    const media = segments.filter((s) => s.index > 0);
    const stop = await workerStopper(env.context, page);
    const cold = async (url) => {
      await stop();
      await sleep(SETTLE_MS);
      const [ms] = await page.evaluate((u) => window.bench.fetchTimes([u]), url);
      return ms;
    };
    await cold(media[0].local); // untimed: the first start after install can differ
    const figures = {1: {list: [], spaced: [], cold: []}, [TITLES]: {list: [], spaced: [], cold: []}};
    let round = 0;
    const phase = async (titles) => {
      const {times, spacedTimes, count, completed} = await page.evaluate(pageListTimes, {
        warm: 3,
        n: LIST_CALLS,
        spaced: SPACED_CALLS,
        gapMs: SPACED_MS,
      });
      if (count !== titles || completed !== titles) throw new Error(`getAllDownloads listed ${count} entries (${completed} completed), expected ${titles}`);
      const colds = [];
      for (let r = 0; r < COLD_ROUNDS; r++) colds.push(await cold(media[round++ % media.length].local));
      figures[titles].list.push(...times);
      figures[titles].spaced.push(...spacedTimes);
      figures[titles].cold.push(...colds);
      log(
        `  ${String(titles).padStart(3)} titles: getAllDownloads ms ${times.map((t) => t.toFixed(1)).join(' ')}; `
          + `spaced ${spacedTimes.map((t) => t.toFixed(1)).join(' ')}; `
          + `cold segment ms ${colds.map((t) => t.toFixed(1)).join(' ')}`,
      );
    };
    log(`scale: ${SOURCE} stored (${media.length} media segments); phases 1, ${TITLES}, 1, ${TITLES} titles`);
    for (let cycle = 0; cycle < 2; cycle++) {
      await phase(1);
      const t0 = performance.now();
      const info = await page.evaluate(pageClone, {source: SOURCE, ids: cloneIds});
      await stop();
      log(
        `  copied ${cloneIds.length} titles (${info.segmentsPerTitle} segments, ${info.bytesPerTitle} bytes each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      await phase(TITLES);
      await page.evaluate(pageDelete, {ids: cloneIds});
      await stop();
    }
    const m = (k, t) => Math.round(median(figures[t][k]) * 10) / 10;
    const list = row(`getAllDownloads(), ${TITLES} titles vs 1`, 'ms', m('list', TITLES), 'the same, 1 title', m('list', 1), '≤ 1.2×');
    list.ratio = Math.round(list.ratio * 100) / 100;
    list.met = list.ratio <= 1.2;
    const spaced = row(`getAllDownloads(), ${TITLES} titles vs 1, ${SPACED_MS / 1000} s apart`, 'ms', m('spaced', TITLES), 'the same, 1 title', m('spaced', 1));
    spaced.ratio = Math.round(spaced.ratio * 100) / 100;
    const coldRow = row(`worker cold start → segment, ${TITLES} titles vs 1`, 'ms', m('cold', TITLES), 'the same, 1 title', m('cold', 1), '≤ 1.2×');
    coldRow.ratio = Math.round(coldRow.ratio * 100) / 100;
    coldRow.met = coldRow.ratio <= 1.2;
    return [list, spaced, coldRow];
  } finally {
    await env.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 1));
}
