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

let omReady = null;
function omStart() {
  if (!omReady) {
    omReady = omCacheWasm()
      .then((response) => wasm_bindgen({ module_or_path: response }))
      .then(() => wasm_bindgen.boot(OM_SCOPE));
    omReady.catch(() => { omReady = null; }); // let the next event try again
  }
  return omReady;
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
  event.respondWith(
    omStart()
      .then(() => wasm_bindgen.handle_fetch(rest, event.request))
      .catch((e) => new Response('9001: the offline worker could not read IndexedDB: ' + e, { status: 500 })),
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
