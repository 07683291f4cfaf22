// Test helpers for pages with the OfflineManager (engine.html, core.html): events recorded in
// order, waits on them, a direct ping of the worker, and a reader of what the worker stored in
// IndexedDB (same origin as the worker). Plain script, so that every engine runs it unchanged.
window.setup = (options = {}) => {
  const om = new window.OfflineManager(options);
  window.om = om;
  window.events = [];
  for (const type of ['progress', 'statechange', 'error']) {
    om.addEventListener(type, (e) => window.events.push({type, detail: e.payload.detail}));
  }
  return true;
};
const plain = (v) => {
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return String(v);
  }
};

/** Resolves with the first statechange of `entryId` to one of `states` within `ms`. */
window.waitState = (entryId, states, ms = 60000) =>
  new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      const hit = window.events.find((e) => e.type === 'statechange' && e.detail.entryId === entryId && states.includes(e.detail.state));
      if (hit) return resolve(plain(hit.detail));
      if (Date.now() - start > ms) return reject(new Error(`no statechange ${entryId} to ${states} in ${ms} ms: ${JSON.stringify(window.events.slice(-5))}`));
      setTimeout(tick, 50);
    };
    tick();
  });

/** Resolves with the first progress event of `entryId` at `percent` or more. */
window.waitProgress = (entryId, percent, ms = 60000) =>
  new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      const hit = window.events.find((e) => e.type === 'progress' && e.detail.entryId === entryId && e.detail.progress >= percent);
      if (hit) return resolve(plain(hit.detail));
      if (Date.now() - start > ms) return reject(new Error(`${entryId} did not reach ${percent} % in ${ms} ms`));
      setTimeout(tick, 50);
    };
    tick();
  });

/** The recorded events of one entry, optionally of one type (plain objects). */
const idOf = (e) => e.detail?.entryId ?? e.detail?.data?.entryId;
window.eventsOf = (entryId, type) => plain(window.events.filter((e) => idOf(e) === entryId && (!type || e.type === type)));

/** Resolves with the first error event of `entryId` within `ms` (it follows the statechange). */
window.waitError = (entryId, ms = 10000) =>
  new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      const [hit] = window.eventsOf(entryId, 'error');
      if (hit) return resolve(hit.detail);
      if (Date.now() - start > ms) return reject(new Error(`no error event for ${entryId} in ${ms} ms`));
      setTimeout(tick, 50);
    };
    tick();
  });

const request = (r) =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * What IndexedDB holds for `entryId`: the entry record (state, stopReason, plan) and one item
 * per stored (track, index) with its chunk numbers, the sum of the records' `size`, the
 * size of the concatenated blobs, the source (url, range) of each chunk and the sha-256
 * of the concatenation. Refuses to run before the worker created the database (opening it
 * here first would create an empty one).
 */
window.readStore = async (entryId) => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes('offline-manager')) throw new Error(`no offline-manager database yet: ${names}`);
  const db = await request(indexedDB.open('offline-manager'));
  try {
    // The plan lives in `plans` (version 3); entries of older releases hold it inline.
    const apart = db.objectStoreNames.contains('plans');
    const tx = db.transaction(apart ? ['entries', 'segments', 'plans'] : ['entries', 'segments'], 'readonly');
    const entry = await request(tx.objectStore('entries').get(entryId));
    if (entry && !entry.plan && apart) entry.plan = await request(tx.objectStore('plans').get(entryId));
    const range = IDBKeyRange.bound([entryId], [entryId, []]);
    const records = await request(tx.objectStore('segments').getAll(range));
    const groups = new Map();
    for (const r of records) {
      const key = `${r.track}\u0000${r.index}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    }
    const items = [];
    for (const recs of groups.values()) {
      recs.sort((a, b) => a.chunk - b.chunk);
      const blob = new Blob(recs.map((r) => r.blob ?? r.bytes)); // Blob records, or ArrayBuffer ones (WebKit private)
      items.push({
        track: recs[0].track,
        index: recs[0].index,
        chunks: recs.map((r) => r.chunk),
        recordSize: recs.reduce((n, r) => n + r.size, 0),
        blobSize: blob.size,
        sources: recs.map((r) => ({url: r.url, range: r.range ?? null})),
        type: recs[0].type,
        forms: [...new Set(recs.map((r) => (r.blob instanceof Blob ? 'blob' : r.bytes instanceof ArrayBuffer ? 'bytes' : 'none')))],
        sha256: hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())),
      });
    }
    return {entry: entry && plain({id: entry.id, state: entry.state, stopReason: entry.stopReason, plan: entry.plan, error: entry.error}), items};
  } finally {
    db.close();
  }
};

/** The worker's ping reply ({activeJobs, wasmMemoryBytes, startedAt}), sent past the OfflineManager. */
window.ping = async () => {
  const registration = await navigator.serviceWorker.ready;
  const channel = new MessageChannel();
  const reply = new Promise((resolve, reject) => {
    channel.port1.onmessage = (e) => (e.data.ok ? resolve(e.data.result) : reject(new Error(JSON.stringify(e.data.error))));
    setTimeout(() => reject(new Error('no ping reply in 10 s')), 10000);
  });
  registration.active.postMessage({v: 1, id: 1, type: 'ping'}, [channel.port2]);
  return reply;
};

/** Whether this page's IndexedDB stores a Blob (WebKit private sessions refuse them). */
window.idbKeepsBlobs = async () => {
  const open = indexedDB.open('blob-probe-page');
  open.onupgradeneeded = () => open.result.createObjectStore('probe');
  const db = await request(open);
  try {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('probe', 'readwrite');
      tx.objectStore('probe').put(new Blob(['x']), 1);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    return true;
  } catch {
    return false;
  } finally {
    db.close();
  }
};

/** Whether EME offers ClearKey here (this WebKitGTK has no EME at all). */
window.hasClearKey = async () => {
  if (typeof navigator.requestMediaKeySystemAccess !== 'function') return false;
  try {
    await navigator.requestMediaKeySystemAccess('org.w3.clearkey', [
      {initDataTypes: ['cenc'], videoCapabilities: [{contentType: 'video/mp4; codecs="avc1.4d401e"'}]},
    ]);
    return true;
  } catch {
    return false;
  }
};
