// Offline Manager service worker bootstrap (classic script, appended to the wasm-bindgen
// `no-modules` glue that defines `wasm_bindgen`).
//
// Every listener is added here, during the script's first evaluation: listeners added later are
// ignored (Chromium records at install that the worker has no fetch handler) and a message that
// woke the worker would be lost. Each event waits for the wasm module, then hands over to Rust.
/* global wasm_bindgen */
'use strict';

const OM_VERSION = '__OM_VERSION__';
const OM_WASM_CACHE = 'offline-manager-wasm-' + OM_VERSION;
const OM_WASM_URL = new URL('offline-manager-sw_bg.wasm', self.location.href).href;
const OM_SCOPE = self.registration.scope;
const OM_PREFIX = OM_SCOPE + '__offline__/';

// The wasm lives in Cache Storage so the worker can start with the network gone.
async function omCacheWasm() {
  const cache = await caches.open(OM_WASM_CACHE);
  const hit = await cache.match(OM_WASM_URL);
  if (hit) return hit;
  const response = await fetch(OM_WASM_URL, { cache: 'no-cache' });
  if (!response.ok) throw new Error('could not fetch ' + OM_WASM_URL + ': HTTP ' + response.status);
  await cache.put(OM_WASM_URL, response.clone());
  return response;
}

// Instantiating the wasm and opening the database are separate steps: a cold worker's first
// segment request needs only the first (see omReadSegment).
let omModule = null;
function omLoad() {
  if (!omModule) {
    omModule = omCacheWasm().then((response) => wasm_bindgen({ module_or_path: response }));
    omModule.catch(() => { omModule = null; }); // let the next event try again
  }
  return omModule;
}

let omReady = null;
let omBooted = false;
function omStart() {
  if (!omReady) {
    omReady = omLoad().then(() => wasm_bindgen.boot(OM_SCOPE)).then(() => { omBooted = true; });
    omReady.catch(() => { omReady = null; });
  }
  return omReady;
}

// Cold start: while the wasm instantiates, read the requested segment's records here, so the
// first answer waits for the slower of the two instead of both in turn. Resolves with the
// records, or null to leave the request to the worker's usual path (no database yet, an odd URL).
function omReadSegment(rest) {
  const parts = rest.split(/[?#]/)[0].split('/');
  const index = Number(parts[3]);
  if (parts.length !== 4 || !parts[2] || !Number.isInteger(index) || index < 0) return Promise.resolve(null);
  let entry;
  try { entry = decodeURIComponent(parts[1]); } catch (e) { return Promise.resolve(null); }
  return new Promise((resolve) => {
    const open = indexedDB.open('offline-manager');
    open.onupgradeneeded = () => open.transaction.abort(); // no database yet: the worker makes it
    open.onerror = () => resolve(null);
    open.onblocked = () => resolve(null);
    open.onsuccess = () => {
      const db = open.result;
      db.onversionchange = () => db.close();
      try {
        const range = IDBKeyRange.bound([entry, parts[2], index], [entry, parts[2], index, []]);
        const req = db.transaction('segments').objectStore('segments').getAll(range);
        req.onsuccess = () => { db.close(); resolve(req.result); };
        req.onerror = () => { db.close(); resolve(null); };
      } catch (e) {
        db.close();
        resolve(null);
      }
    };
  });
}

// The commonest cold request, a whole segment stored in one record without a Range header, is
// answered here without waiting for the wasm; anything else (ranges, chunks, a missing segment)
// goes to the worker's serve module.
function omWholeSegment(records, request) {
  if (!records || records.length !== 1 || request.headers.has('Range')) return null;
  const r = records[0];
  if ((r.chunks || 1) !== 1) return null;
  // Blob records, or ArrayBuffer records where IndexedDB refuses Blobs (WebKit private sessions).
  const body = r.blob instanceof Blob ? r.blob : r.bytes instanceof ArrayBuffer ? new Blob([r.bytes]) : null;
  if (!body) return null;
  return new Response(body, {status: 200, headers: {
    'Content-Type': r.type || 'application/octet-stream',
    'Content-Length': String(body.size),
    'Accept-Ranges': 'bytes',
  }});
}

let omWoken = false;
function omWake(force) {
  if (omWoken && !force) return Promise.resolve();
  omWoken = true;
  return omStart().then(() => wasm_bindgen.wake()).catch((e) => console.error('[offline-manager] resume failed', e));
}

function omError(code, message) {
  return { severity: 2, category: 9, code, data: { message } };
}

self.addEventListener('install', (event) => {
  event.waitUntil(omCacheWasm().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('offline-manager-wasm-') && name !== OM_WASM_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
    await omWake(true);
  })());
});

self.addEventListener('fetch', (event) => {
  const url = event.request.url;
  if (!url.startsWith(OM_PREFIX)) {
    event.waitUntil(omWake(false));
    return; // not ours: the browser fetches it as usual
  }
  const rest = url.slice(OM_SCOPE.length);
  const usual = () => omStart().then(() => wasm_bindgen.handle_fetch(rest, event.request));
  let answer;
  if (omBooted) {
    answer = usual();
  } else {
    const loading = omLoad();
    answer = omReadSegment(rest).then((records) =>
      omWholeSegment(records, event.request)
      || loading.then(() => (records && wasm_bindgen.handle_fetch_from_records(rest, event.request, records)) || usual()));
  }
  event.respondWith(
    answer.catch((e) => new Response('9001: the offline worker could not read IndexedDB: ' + e, { status: 500 })),
  );
  event.waitUntil(omWake(false));
});

// The network came back while the worker runs: resume downloads paused for the network (a
// stopped worker is woken by the pages instead, which ping it on their own 'online' event).
self.addEventListener('online', () => { omWake(true); });

self.addEventListener('message', (event) => {
  const port = event.ports && event.ports[0] ? event.ports[0] : null;
  const id = event.data && typeof event.data.id === 'number' ? event.data.id : -1;
  event.waitUntil(
    omStart()
      .then(() => wasm_bindgen.handle_message(event.data, port))
      .then(() => omWake(true))
      .catch((e) => {
        console.error('[offline-manager] message failed', e);
        if (port) port.postMessage({ id, ok: false, error: omError(9001, 'the offline worker failed: ' + e + '; reload the page') });
      }),
  );
});
