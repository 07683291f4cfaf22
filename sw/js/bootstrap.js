// @ts-check
// Offline Manager service worker bootstrap (classic script, appended to the wasm-bindgen
// `no-modules` glue that defines `wasm_bindgen`, and to generated/constants.js, which defines
// OM_PROTOCOL_VERSION, OM_LAYOUT and OM_ERROR_CODE from the Rust crate: scripts/build.sh).
// `tsc -p sw/js` type-checks it (globals.d.ts declares what comes from elsewhere).
//
// Every listener is added here, during the script's first evaluation: listeners added later are
// ignored (Chromium records at install that the worker has no fetch handler) and a message that
// woke the worker would be lost. Each event waits for the wasm module, then hands over to Rust.
//
// Two ways to run:
// - standalone: this script is the service worker (registered directly, e.g. by the page shim).
//   It takes over at once (skipWaiting, clients.claim) and fetches the wasm beside itself.
// - inside the app's own worker: the app sets `self.OFFLINE_MANAGER = {...}` and then calls
//   `importScripts('offline-manager-sw.js')`. The object being there is what says "embedded":
//   install/activate decisions are the app's (no skipWaiting, no clients.claim unless it sets
//   `skipWaiting: true` / `claim: true`); `wasmUrl` defaults to offline-manager-sw_bg.wasm beside
//   the APP worker (self.location, which is also what a relative importScripts URL resolves
//   against); `scope` defaults to the registration's scope.
// Either way the bootstrap answers only its own fetches (`{scope}__offline__/...`) and its own
// messages (`{v, id, type}`); every other event is left to the app's listeners.
'use strict';

/** `self`, typed as the service worker global scope it is (lib.webworker types it as any worker's). */
const omSelf = /** @type {ServiceWorkerGlobalScope & typeof globalThis} */ (self);
const OM_VERSION = '__OM_VERSION__'; // the npm package version (page-shim/package.json)
const OM_WASM_CACHE = 'offline-manager-wasm-__OM_WASM_HASH__'; // tied to the wasm's content
const OM_CONFIG = self.OFFLINE_MANAGER && typeof self.OFFLINE_MANAGER === 'object' ? self.OFFLINE_MANAGER : null;
const OM_EMBEDDED = OM_CONFIG !== null;
const OM_SKIP_WAITING = OM_EMBEDDED ? OM_CONFIG.skipWaiting === true : true;
const OM_CLAIM = OM_EMBEDDED ? OM_CONFIG.claim === true : true;
const OM_WASM_URL = new URL(OM_CONFIG?.wasmUrl || 'offline-manager-sw_bg.wasm', self.location.href).href;
const OM_SCOPE = OM_CONFIG?.scope ? new URL(OM_CONFIG.scope, self.location.href).href : omSelf.registration.scope;
const OM_PREFIX = `${OM_SCOPE}${OM_LAYOUT.offlinePrefix}/`;
/** The fields of a segment record in IndexedDB (crates/engine/src/layout.rs). */
const OM_RECORD = OM_LAYOUT.segmentRecord;
if (!OM_EMBEDDED && !/offline-manager-sw[^/]*\.js$/.test(self.location.pathname)) {
  console.warn(
    `[offline-manager] imported into ${self.location.href} without self.OFFLINE_MANAGER: acting as the standalone worker (skipWaiting, clients.claim); `
      + 'set self.OFFLINE_MANAGER = {} before importScripts to leave them to your worker',
  );
}
if (!OM_SCOPE.startsWith(omSelf.registration.scope)) {
  console.error(`[offline-manager] scope ${OM_SCOPE} lies outside the registration scope ${omSelf.registration.scope}: stored media cannot be served`);
}
/** Read by the app's worker code if it wants it (e.g. to log which package it runs). */
self.OFFLINE_MANAGER_INFO = Object.freeze({
  version: OM_VERSION,
  protocol: OM_PROTOCOL_VERSION,
  scope: OM_SCOPE,
  wasmUrl: OM_WASM_URL,
  embedded: OM_EMBEDDED,
});

// The wasm lives in Cache Storage so the worker can start with the network gone.
async function omCacheWasm() {
  const cache = await caches.open(OM_WASM_CACHE);
  const hit = await cache.match(OM_WASM_URL);
  if (hit) return hit;
  const response = await fetch(OM_WASM_URL, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`could not fetch ${OM_WASM_URL}: HTTP ${response.status}`);
  await cache.put(OM_WASM_URL, response.clone());
  return response;
}

// Instantiating the wasm and opening the database are separate steps: a cold worker's first
// segment request needs only the first (see omReadSegment).
/** @type {Promise<unknown> | null} */
let omModule = null;
function omLoad() {
  if (!omModule) {
    omModule = omCacheWasm().then((response) => wasm_bindgen({ module_or_path: response }));
    omModule.catch(() => {
      omModule = null;
    }); // let the next event try again
  }
  return omModule;
}

/** @type {Promise<void> | null} */
let omReady = null;
let omBooted = false;
function omStart() {
  if (!omReady) {
    omReady = omLoad()
      .then(() => wasm_bindgen.boot(OM_SCOPE))
      .then(() => {
        omBooted = true;
      });
    omReady.catch(() => {
      omReady = null;
    });
  }
  return omReady;
}

// Cold start: while the wasm instantiates, read the requested segment's records here, so the
// first answer waits for the slower of the two instead of both in turn. Resolves with the
// records, or null to leave the request to the worker's usual path (no database yet, an odd URL).
/**
 * @param {string} rest the request's path below the scope: `__offline__/{entry}/{track}/{index}`
 * @returns {Promise<Record<string, unknown>[] | null>}
 */
function omReadSegment(rest) {
  const parts = rest.split(/[?#]/)[0].split('/');
  const index = Number(parts[3]);
  if (parts.length !== 4 || !parts[2] || !Number.isInteger(index) || index < 0) return Promise.resolve(null);
  /** @type {string} */
  let entry;
  try {
    entry = decodeURIComponent(parts[1]);
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const open = indexedDB.open(OM_LAYOUT.database);
    // No database yet: the worker makes it. (An upgradeneeded event always has its transaction.)
    open.onupgradeneeded = () => /** @type {IDBTransaction} */ (open.transaction).abort();
    open.onerror = () => resolve(null);
    open.onblocked = () => resolve(null);
    open.onsuccess = () => {
      const db = open.result;
      db.onversionchange = () => db.close();
      try {
        const range = IDBKeyRange.bound([entry, parts[2], index], [entry, parts[2], index, []]);
        const req = db.transaction(OM_LAYOUT.stores.segments).objectStore(OM_LAYOUT.stores.segments).getAll(range);
        req.onsuccess = () => {
          db.close();
          resolve(req.result);
        };
        req.onerror = () => {
          db.close();
          resolve(null);
        };
      } catch {
        db.close();
        resolve(null);
      }
    };
  });
}

// The commonest cold request, a whole segment stored in one record without a Range header, is
// answered here without waiting for the wasm; anything else (ranges, chunks, a missing segment)
// goes to the worker's serve module.
/**
 * @param {Record<string, unknown>[] | null} records
 * @param {Request} request
 * @returns {Response | null}
 */
function omWholeSegment(records, request) {
  if (records?.length !== 1 || request.headers.has('Range')) return null;
  const r = records[0];
  if ((r[OM_RECORD.chunks] || 1) !== 1) return null;
  // Blob records, or ArrayBuffer records where IndexedDB refuses Blobs (WebKit private sessions).
  const blob = r[OM_RECORD.blob];
  const bytes = r[OM_RECORD.bytes];
  const body = blob instanceof Blob ? blob : bytes instanceof ArrayBuffer ? new Blob([bytes]) : null;
  if (!body) return null;
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': /** @type {string} */ (r[OM_RECORD.type] || 'application/octet-stream'),
      'Content-Length': String(body.size),
      'Accept-Ranges': 'bytes',
    },
  });
}

// Background Fetch (Chromium): the browser downloads with every page closed and wakes the
// worker with one event when a fetch ends; the records are read here (Blobs: the bytes stay in
// the browser) and stored by the wasm with the same checks as its own fetches. Fetches of the
// app's own (other ids) are left to the app's listeners.
const OM_BACKGROUND_PREFIX = OM_LAYOUT.backgroundFetchPrefix;
/** @type {Record<string, string>} */
const OM_BACKGROUND_ENDS = { backgroundfetchsuccess: 'success', backgroundfetchfail: 'fail', backgroundfetchabort: 'abort' };

/**
 * The records of an ended background fetch; a record without a response says why.
 * @param {OmBackgroundFetchRegistration} registration
 * @returns {Promise<OmDelivered[]>}
 */
async function omReadRecords(registration) {
  /** @type {OmDelivered[]} */
  const out = [];
  /** @type {OmBackgroundFetchRecord[]} */
  let records = [];
  try {
    records = await registration.matchAll();
  } catch {
    return out; // an aborted fetch may keep none
  }
  for (const record of records) {
    const url = record.request.url;
    try {
      const r = await record.responseReady;
      out.push({ url, finalUrl: r.url, status: r.status, contentType: r.headers.get('Content-Type'), body: r.ok ? await r.blob() : null, error: null });
    } catch (e) {
      out.push({ url, finalUrl: '', status: 0, contentType: null, body: null, error: String(e) });
    }
  }
  return out;
}

for (const type of Object.keys(OM_BACKGROUND_ENDS)) {
  omSelf.addEventListener(type, (e) => {
    const event = /** @type {OmBackgroundFetchEvent} */ (/** @type {unknown} */ (e));
    const registration = event.registration;
    if (!registration.id.startsWith(OM_BACKGROUND_PREFIX)) return;
    event.waitUntil(
      (async () => {
        await omStart();
        const records = await omReadRecords(registration);
        await wasm_bindgen.background_delivered(registration.id, OM_BACKGROUND_ENDS[type], registration.failureReason || '', records);
        if (type !== 'backgroundfetchabort' && event.updateUI) {
          await event
            .updateUI({ title: type === 'backgroundfetchsuccess' ? 'Saved for offline viewing' : 'Download stopped: open the app to finish it' })
            .catch(() => undefined);
        }
        await omWake(true);
      })().catch((err) => console.error('[offline-manager] storing a background fetch failed', err)),
    );
  });
}

// A click on the browser's download UI opens the app.
omSelf.addEventListener('backgroundfetchclick', (e) => {
  const event = /** @type {OmBackgroundFetchEvent} */ (/** @type {unknown} */ (e));
  if (!event.registration.id.startsWith(OM_BACKGROUND_PREFIX)) return;
  event.waitUntil(omSelf.clients.openWindow(OM_SCOPE).catch(() => null));
});

/** Background fetch ids whose progress this worker instance relays to the pages. */
const omWatched = new Set();
/** Relays the browser's progress on this worker's background fetches to the pages (while it runs). */
async function omWatchBackground() {
  const manager = /** @type {OmBackgroundFetchManager | undefined} */ (/** @type {any} */ (omSelf.registration).backgroundFetch);
  if (!manager) return;
  for (const id of await manager.getIds()) {
    if (!id.startsWith(OM_BACKGROUND_PREFIX) || omWatched.has(id)) continue;
    const registration = await manager.get(id);
    if (!registration) continue;
    omWatched.add(id);
    registration.addEventListener('progress', () => {
      wasm_bindgen.background_progress(id, registration.downloaded).catch(() => undefined);
    });
  }
}

// The wasm caches of other builds are deleted once this worker is the registration's active one
// and no newer build is installing or waiting (it would take their wasm away): at activation, and
// again at the first fetch event (only the active worker gets those), because Firefox ESR 153
// dispatches no `activate` to a build that was stopped while it waited (measured:
// tests/engines/worker-update.test.mjs), which would keep the old wasm for ever.
let omOtherWasmChecked = false;
async function omDeleteOtherWasm() {
  omOtherWasmChecked = true;
  const registration = omSelf.registration;
  if (registration.installing || registration.waiting) return;
  for (const name of await caches.keys()) {
    if (name.startsWith('offline-manager-wasm-') && name !== OM_WASM_CACHE) await caches.delete(name);
  }
}

let omWoken = false;
/**
 * @param {boolean} force resume even if an earlier event already did
 * @returns {Promise<unknown>}
 */
function omWake(force) {
  if (omWoken && !force) return Promise.resolve();
  omWoken = true;
  return omStart()
    .then(() => {
      omWatch();
      return wasm_bindgen.wake();
    })
    .catch((e) => console.error('[offline-manager] resume failed', e));
}

/** After a resume: relays the progress of the background fetches the browser has now. */
function omWatch() {
  omWoken = true;
  // Not awaited: Background Fetch calls wait for the registration to be activated, so
  // awaiting them in `activate` would wait for ever.
  omWatchBackground().catch(() => undefined);
}

/**
 * A KalturaError-shaped error (severity CRITICAL, category STORAGE) for a reply.
 * @param {number} code
 * @param {string} message
 */
function omError(code, message) {
  return { severity: 2, category: 9, code, data: { message } };
}

omSelf.addEventListener('install', (event) => {
  event.waitUntil(omCacheWasm().then(() => (OM_SKIP_WAITING ? omSelf.skipWaiting() : undefined)));
});

omSelf.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      await omDeleteOtherWasm();
      if (OM_CLAIM) await omSelf.clients.claim();
    })(),
  );
  // Resumed once activated, not within it: Background Fetch calls made while the registration
  // is activating wait for the activation to end.
  omWake(true);
});

// How long after a cold worker's first answer the wasm starts loading (cold-start bench: the
// page's first segment 1.19x the plain JS worker's when it loads at once, 1.10x with 150 ms).
const OM_COLD_WAKE_DELAY_MS = 150;

omSelf.addEventListener('fetch', (event) => {
  const url = event.request.url;
  if (!url.startsWith(OM_PREFIX)) {
    if (!omOtherWasmChecked) event.waitUntil(omDeleteOtherWasm().catch(() => undefined));
    event.waitUntil(omWake(false));
    return; // not ours: the app's listeners, or the browser, fetch it as usual
  }
  // Ours alone: a later listener of the app (a Workbox route) must not answer it too.
  event.stopImmediatePropagation();
  const rest = url.slice(OM_SCOPE.length);
  const usual = () => omStart().then(() => wasm_bindgen.handle_fetch(rest, event.request));
  /** @type {Promise<Response>} */
  let answer;
  const cold = !omBooted;
  if (!cold) {
    answer = usual();
  } else {
    answer = omReadSegment(rest).then(
      (records) =>
        omWholeSegment(records, event.request)
        || omLoad().then(() => (records && wasm_bindgen.handle_fetch_from_records(rest, event.request, records)) || usual()),
    );
  }
  event.respondWith(
    answer.catch(
      (e) => new Response(`${OM_ERROR_CODE.INDEXED_DB_ERROR}: the offline worker could not read IndexedDB: ${e?.data?.message || e}`, { status: 500 }),
    ),
  );
  // A cold worker's first answer needs no wasm (omWholeSegment): the wasm loads, the worker
  // wakes and old wasm caches go a little after it is out (its body is still flowing to the
  // page then), so none of them competes with it for the CPU. A request that needs the wasm
  // meanwhile loads it itself.
  const answered = answer.then(
    () => (cold ? new Promise((resolve) => setTimeout(resolve, OM_COLD_WAKE_DELAY_MS)) : undefined),
    () => undefined,
  );
  if (!omOtherWasmChecked) event.waitUntil(answered.then(omDeleteOtherWasm).catch(() => undefined));
  event.waitUntil(answered.then(() => omWake(false)));
});

// The network came back while the worker runs: resume downloads paused for the network (a
// stopped worker is woken by the pages instead, which ping it on their own 'online' event).
omSelf.addEventListener('online', () => {
  omWake(true);
});

/**
 * A message of the page shim's protocol (any version): `{v, id, type}`. Others are the app's.
 * @param {any} data whatever was posted
 * @returns {boolean}
 */
function omIsRequest(data) {
  return data !== null && typeof data === 'object' && typeof data.v === 'number' && typeof data.id === 'number' && typeof data.type === 'string';
}

// Every reply goes out with the worker's protocol and package versions (`v`, `workerVersion`):
// the shim compares `v` with its own and names both versions when they differ. The wasm returns
// its reply (it posts nothing when given no port), and the reply is sent from here.
omSelf.addEventListener('message', (event) => {
  const data = event.data;
  if (!omIsRequest(data)) return; // the app's message (Workbox's SKIP_WAITING, ...): not ours
  const port = event.ports?.[0] || null;
  const id = data.id;
  /** @param {object} body */
  const reply = (body) => {
    if (port) port.postMessage(Object.assign({ id, v: OM_PROTOCOL_VERSION, workerVersion: OM_VERSION }, body));
  };
  if (data.v !== OM_PROTOCOL_VERSION) {
    // Answered here, without the wasm: a page shim of another release (new page, old worker
    // still in control, or the reverse).
    reply({
      ok: false,
      error: omError(
        OM_ERROR_CODE.OPERATION_ABORTED,
        `the page speaks offline-manager protocol ${data.v} but this service worker (package ${OM_VERSION}) speaks protocol ${OM_PROTOCOL_VERSION}; `
          + "reload the page (close the app's other tabs) so page and worker come from the same release, "
          + 'and serve the page shim and offline-manager-sw.js from one package version',
      ),
    });
    event.waitUntil(omWake(false));
    return;
  }
  event.waitUntil(
    omStart()
      .then(() => wasm_bindgen.handle_message(data, undefined))
      .then((answer) =>
        reply(
          answer && typeof answer === 'object'
            ? answer
            : { ok: false, error: omError(OM_ERROR_CODE.INDEXED_DB_ERROR, 'the offline worker sent an unreadable reply; reload the page') },
        ),
      )
      // A ping (the pages' keep-alive, and their 'online' event) resumed what should run before
      // it counted it (in the wasm); any first message of a worker instance resumes too. Other
      // commands do not re-read every entry.
      .then(() => (data.type === 'ping' ? omWatch() : omWake(false)))
      .catch((e) => {
        console.error('[offline-manager] message failed', e);
        // The worker's own KalturaError (its database cannot be opened: the message says why and
        // what to do) goes to the page as it is.
        const own = e !== null && typeof e === 'object' && e.category === 9 && typeof e.code === 'number';
        reply({ ok: false, error: own ? e : omError(OM_ERROR_CODE.INDEXED_DB_ERROR, `the offline worker failed: ${e}; reload the page`) });
      }),
  );
});
