// The limits benchmark's pipelines (tests/bench/limits-bench.mjs), in plain JS, for a page
// (<script>) and for a service worker (importScripts: pages/limits-sw.js) alike: fetch alone,
// store alone, and both at once as our job schedules them.
//
//   self.limitsPipeline.fetchAlone({items, concurrency, keep}) / .storeAlone({batch})
//                      .fetchAndStore({items, concurrency, batch, database})
'use strict';

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
      const {url, range} = items[i];
      const headers = range ? {Range: `bytes=${range[0]}-${range[1]}`} : undefined;
      const response = await fetch(url, {headers, cache: 'no-store'});
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const blob = await response.blob();
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
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const open = indexedDB.open('limits-scratch', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('segments');
  const db = await request(open);
  const blobs = self.limitsBlobs;
  let bytes = 0;
  let transactions = 0;
  const t0 = performance.now();
  for (let i = 0; i < blobs.length; i += batch) {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('segments', 'readwrite');
      const store = tx.objectStore('segments');
      for (let k = i; k < Math.min(blobs.length, i + batch); k++) {
        store.put({blob: blobs[k], size: blobs[k].size}, k);
        bytes += blobs[k].size;
      }
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    });
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
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const open = indexedDB.open(database, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('segments');
  const db = await request(open);
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
      const {url, range} = items[i];
      const headers = range ? {Range: `bytes=${range[0]}-${range[1]}`} : undefined;
      const response = await fetch(url, {headers, cache: 'no-store'});
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      waiting.push([i, await response.blob()]);
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
      await new Promise((resolve, reject) => {
        const tx = db.transaction('segments', 'readwrite');
        for (const [k, blob] of take) {
          tx.objectStore('segments').put({blob, size: blob.size}, k);
          bytes += blob.size;
        }
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      });
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
