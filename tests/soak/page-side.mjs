// Functions the soak (tests/soak/soak.mjs) runs in its page with page.evaluate: each travels as
// source text, so each is self-contained (no reference to anything else in this module). The
// page is tests/pages/core.html (window.om, window.readStore, window.playFor).

/**
 * Calls `window.om[method](...args)` and answers `{ok, value}` or `{ok: false, code, message}`
 * (a Kaltura error's code and message), so that refusals travel back as plain data.
 */
export async function callOm({method, args}) {
  try {
    const value = await window.om[method](...args);
    return {ok: true, value: value === undefined ? null : JSON.parse(JSON.stringify(value))};
  } catch (e) {
    return {ok: false, code: e?.code ?? null, message: e?.data?.message ?? e?.message ?? String(e)};
  }
}

/**
 * Everything IndexedDB `offline-manager` holds, by key only (no bytes): the entry records' id,
 * state and stopReason, and for `segments`, `manifests` and `licenses` how many records each
 * entry id has. A `segments` key whose first part is not a string (the worker's Blob probe,
 * `[[], 'blob-probe']`) is counted apart, not as an entry's.
 */
export async function scanStores() {
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes('offline-manager')) return {database: false};
  const db = await request(indexedDB.open('offline-manager'));
  try {
    const stores = ['entries', 'plans', 'segments', 'manifests', 'licenses'].filter((s) => db.objectStoreNames.contains(s));
    const tx = db.transaction(stores, 'readonly');
    const entries = (await request(tx.objectStore('entries').getAll())).map((e) => ({id: e.id, state: e.state, stopReason: e.stopReason ?? null}));
    const counts = {};
    let probes = 0;
    for (const store of stores.filter((s) => s !== 'entries')) {
      const byEntry = {};
      for (const key of await request(tx.objectStore(store).getAllKeys())) {
        const id = Array.isArray(key) ? key[0] : key;
        if (typeof id !== 'string') {
          probes += 1;
          continue;
        }
        byEntry[id] = (byEntry[id] ?? 0) + 1;
      }
      counts[store] = byEntry;
    }
    return {database: true, stores, entries, counts, probes};
  } finally {
    db.close();
  }
}

/** The local manifest URL of each entry in `ids` (getDownloadedMediaConfig), or its error. */
export async function localUrls(ids) {
  const out = {};
  for (const id of ids) {
    try {
      out[id] = {url: (await window.om.getDownloadedMediaConfig(id)).sources.dash[0].url};
    } catch (e) {
      out[id] = {code: e?.code ?? null, message: e?.data?.message ?? e?.message ?? String(e)};
    }
  }
  return out;
}

/** The error events the page received, as {entryId, code, message}. */
export function errorEvents() {
  return window.events
    .filter((e) => e.type === 'error')
    .map((e) => ({entryId: e.detail?.data?.entryId ?? e.detail?.entryId ?? null, code: e.detail?.code ?? null, message: e.detail?.data?.message ?? null}));
}

/** Drops the page's recorded progress events (the soak reads states from getAllDownloads). */
export function trimEvents() {
  window.events = window.events.filter((e) => e.type !== 'progress');
  return window.events.length;
}
