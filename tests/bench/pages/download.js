// In-page side of the download benchmark (tests/bench/download-bench.mjs): three downloaders
// of the same segments, each timed from the call that starts it to its completion.
// Every run happens in a fresh browser profile, so nothing here cleans up.
//
//   window.bench.ours.prepare(mpdUrl) / .download()      the OfflineManager (service worker)
//   window.bench.shaka.prepare() / .store(mpdUrl, repIds) shaka.offline.Storage
//   window.bench.loop.prepare() / .run(mpdUrl, items, concurrency, batch)
//                                                        fetch → blob → IndexedDB put

const ENTRY = 'bench';
const TIMEOUT_MS = 300000;

const withTimeout = (promise, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no completion in ${TIMEOUT_MS} ms`)), TIMEOUT_MS))]);

const request = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

const errorText = (e) => (e && typeof e === 'object' ? JSON.stringify(e, Object.getOwnPropertyNames(e)) : String(e));

// ---- ours ----------------------------------------------------------------------------------

let om;
let completed;

async function oursPrepare(mpdUrl) {
  const {OfflineManager} = await import('/offline-manager.js');
  om = new OfflineManager();
  completed = new Promise((resolve, reject) => {
    om.addEventListener('statechange', (e) => {
      const d = e.payload.detail;
      if (d.entryId !== ENTRY) return;
      if (d.state === 'completed') resolve(performance.now());
      if (d.state === 'failed' || d.state === 'paused') reject(new Error(`state ${d.state} (${d.stopReason})`));
    });
    om.addEventListener('error', (e) => reject(new Error(errorText(e.payload.detail))));
  });
  await om.getMediaConfig({entryId: ENTRY, sources: {dash: [{url: mpdUrl}]}, metadata: {name: ENTRY}});
  return true;
}

/** The segment records ours stored: [{url, range, size, track, index}] in plan order. */
async function oursRecords() {
  const db = await request(indexedDB.open('offline-manager'));
  const tx = db.transaction('segments', 'readonly');
  const range = IDBKeyRange.bound([ENTRY], [ENTRY, []]);
  const rows = await request(tx.objectStore('segments').getAll(range));
  db.close();
  return rows.filter((r) => r.track !== 'poster').map((r) => ({url: r.url, range: r.range ?? null, size: r.size, track: r.track, index: r.index}));
}

async function oursDownload(options = {}) {
  const t0 = performance.now();
  const summary = await om.download(ENTRY, options);
  const t1 = await withTimeout(completed, 'ours');
  const list = await om.getAllDownloads();
  const item = list.find((i) => i.id === ENTRY);
  const records = await oursRecords();
  const stored = records.reduce((n, r) => n + r.size, 0);
  return {
    ms: t1 - t0,
    bytes: item.size,
    expectedSize: item.expectedSize,
    storedRecordBytes: stored,
    segmentsTotal: summary.segmentsTotal,
    mode: item.mode,
    modeReason: item.modeReason,
    segments: records.length,
    records,
  };
}

// ---- shaka.offline.Storage -----------------------------------------------------------------

let storage;

async function shakaPrepare() {
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/vendor/shaka/shaka-player.compiled.js';
    s.onload = resolve;
    s.onerror = () => reject(new Error('could not load shaka-player'));
    document.head.append(s);
  });
  const shaka = window.shaka;
  shaka.polyfill.installAll();
  if (!shaka.offline.Storage.support()) throw new Error('shaka.offline.Storage is not supported here');
  storage = new shaka.offline.Storage();
  return {version: shaka.Player.version, parallel: storage.getConfiguration().offline.numberOfParallelDownloads};
}

/** Stores the variants whose video and audio representation ids are both in `repIds`. */
async function shakaStore(mpdUrl, repIds) {
  const wanted = new Set(repIds);
  const chosen = [];
  let segments = 0;
  let segmentBytes = 0;
  const types = window.shaka.net.NetworkingEngine.RequestType;
  storage.getNetworkingEngine().registerResponseFilter((type, response) => {
    if (type === types.SEGMENT) {
      segments++;
      segmentBytes += response.data.byteLength;
    }
  });
  storage.configure({
    offline: {
      trackSelectionCallback: (tracks) => {
        const picked = tracks.filter((t) => t.type === 'variant' && wanted.has(t.originalVideoId) && wanted.has(t.originalAudioId));
        chosen.push(...picked.map((t) => `${t.originalVideoId}+${t.originalAudioId}`));
        return picked;
      },
    },
  });
  const t0 = performance.now();
  let content;
  try {
    content = await withTimeout(storage.store(mpdUrl, {name: ENTRY}).promise, 'shaka');
  } catch (e) {
    throw new Error(`shaka store failed: ${errorText(e)}`);
  }
  const t1 = performance.now();
  return {ms: t1 - t0, bytes: content.size, segments, segmentBytes, chosen};
}

// ---- plain fetch → blob → IndexedDB loop ---------------------------------------------------

let loopDb;

async function loopPrepare() {
  const open = indexedDB.open('bench-loop', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('segments');
  loopDb = await request(open);
  return true;
}

/**
 * Fetches `items` ([{url, range}]) with `concurrency` requests in flight, and writes the blobs
 * `batch` per readwrite transaction (a transaction starts as soon as a batch is full; fetching
 * goes on meanwhile). The manifest is fetched first, as the other two do.
 */
async function loopRun(mpdUrl, items, concurrency, batch) {
  const t0 = performance.now();
  await (await fetch(mpdUrl)).text();
  let next = 0;
  let bytes = 0;
  let pending = [];
  const commits = [];
  const flush = () => {
    const records = pending;
    pending = [];
    commits.push(
      new Promise((resolve, reject) => {
        const tx = loopDb.transaction('segments', 'readwrite');
        const store = tx.objectStore('segments');
        for (const r of records) store.put(r, r.key);
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
      }),
    );
  };
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      const {url, range} = items[i];
      const headers = range ? {Range: `bytes=${range[0]}-${range[1]}`} : undefined;
      const response = await fetch(url, {headers});
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const blob = await response.blob();
      bytes += blob.size;
      pending.push({key: i, url, blob, size: blob.size});
      if (pending.length >= batch) flush();
    }
  };
  await withTimeout(Promise.all(Array.from({length: concurrency}, lane)), 'loop');
  if (pending.length) flush();
  await Promise.all(commits);
  const t1 = performance.now();
  return {ms: t1 - t0, bytes, segments: items.length, transactions: commits.length};
}

window.bench = {
  ours: {prepare: oursPrepare, download: oursDownload},
  shaka: {prepare: shakaPrepare, store: shakaStore},
  loop: {prepare: loopPrepare, run: loopRun},
};
window.benchReady = true;
