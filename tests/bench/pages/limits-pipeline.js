// The limits benchmark's pipelines (tests/bench/limits-bench.mjs), in plain JS, for a page
// (<script>) and for a service worker (importScripts: pages/limits-sw.js) alike: fetch alone,
// store alone, and both at once as our job schedules them.
//
//   self.limitsPipeline.fetchAlone({items, concurrency, keep}) / .storeAlone({batch})
//                      .fetchAndStore({items, concurrency, batch, database})
'use strict';

// The helpers are named limits*: download.js, a classic script on the same page, has its own
// top-level `request`.

/** An IndexedDB request as a promise. */
const limitsRequest = (r) =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

/** Opens (creating) the scratch database `name` with its one `segments` store. */
function limitsOpen(name) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('segments');
  return limitsRequest(open);
}

/** Puts `[key, blob]` pairs in one readwrite transaction; resolves to their bytes once committed. */
function limitsPut(db, pairs) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('segments', 'readwrite');
    const store = tx.objectStore('segments');
    let bytes = 0;
    for (const [key, blob] of pairs) {
      store.put({blob, size: blob.size}, key);
      bytes += blob.size;
    }
    tx.oncomplete = () => resolve(bytes);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

/** Fetches one item (`{url, range}`) as our worker does (no HTTP cache) → its body as a Blob. */
async function limitsFetch({url, range}) {
  const headers = range ? {Range: `bytes=${range[0]}-${range[1]}`} : undefined;
  const response = await fetch(url, {headers, cache: 'no-store'});
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.blob();
}

/**
 * Fetches `items` with `concurrency` in flight → blobs, dropped as they come, or
 * with `keep` kept in self.limitsBlobs (for storeAlone).
 */
async function fetchAlone({items, concurrency, keep}) {
  const blobs = new Array(items.length);
  let next = 0;
  let bytes = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      const blob = await limitsFetch(items[i]);
      bytes += blob.size;
      if (keep) blobs[i] = blob;
    }
  };
  await Promise.all(Array.from({length: concurrency}, lane));
  const ms = performance.now() - t0;
  self.limitsBlobs = keep ? blobs : null;
  return {ms, bytes, segments: items.length};
}

/** Puts self.limitsBlobs into `limits-scratch`, `batch` per transaction, one at a time. */
async function storeAlone({batch}) {
  const db = await limitsOpen('limits-scratch');
  const blobs = self.limitsBlobs;
  let bytes = 0;
  let transactions = 0;
  const t0 = performance.now();
  for (let i = 0; i < blobs.length; i += batch) {
    const pairs = [];
    for (let k = i; k < Math.min(blobs.length, i + batch); k++) pairs.push([k, blobs[k]]);
    bytes += await limitsPut(db, pairs);
    transactions++;
  }
  const ms = performance.now() - t0;
  db.close();
  self.limitsBlobs = null;
  return {ms, bytes, transactions};
}

/**
 * What our job does, in plain JS: `concurrency` lanes fetch `items` → blobs while
 * one readwrite transaction at a time puts `batch` of them into `database`, fetching held
 * back once two batches wait (as crates/engine/src/job.rs schedules). Timed until the last commit.
 */
async function fetchAndStore({items, concurrency, batch, database = 'limits-scratch-both'}) {
  const db = await limitsOpen(database);
  const waiting = [];
  const space = [];
  let wake = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const until = () => new Promise((resolve) => (wake = resolve));
  let next = 0;
  let fetched = 0;
  let bytes = 0;
  let transactions = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < items.length) {
      while (waiting.length >= batch * 2) await new Promise((r) => space.push(r));
      if (next >= items.length) break; // another lane took the last one while this one waited
      const i = next++;
      waiting.push([i, await limitsFetch(items[i])]);
      fetched++;
      poke();
    }
  };
  const commits = async () => {
    let stored = 0;
    while (stored < items.length) {
      if (waiting.length < batch && fetched < items.length) {
        await until();
        continue;
      }
      const take = waiting.splice(0, batch);
      for (const r of space.splice(0)) r();
      bytes += await limitsPut(db, take);
      stored += take.length;
      transactions++;
    }
  };
  await Promise.all([...Array.from({length: concurrency}, lane), commits()]);
  const ms = performance.now() - t0;
  db.close();
  return {ms, bytes, transactions};
}

self.limitsPipeline = {fetchAlone, storeAlone, fetchAndStore};
