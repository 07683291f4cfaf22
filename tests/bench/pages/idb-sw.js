// Peer of the cold-start benchmark: a plain JavaScript service worker that answers stored
// segments from IndexedDB (database `plain-bench`, store `segments`, value {blob, type} under the
// key /bench/idb/N; bench.js idbStore fills it), with a Blob body, as our worker does.
'use strict';

let db = null;
function openDb() {
  db ??= new Promise((resolve, reject) => {
    const open = indexedDB.open('plain-bench', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('segments');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => {
      db = null;
      reject(open.error);
    };
  });
  return db;
}

function get(key) {
  return openDb().then(
    (d) =>
      new Promise((resolve, reject) => {
        const r = d.transaction('segments').objectStore('segments').get(key);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      }),
  );
}

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const path = new URL(event.request.url).pathname;
  if (!path.startsWith('/bench/idb/')) return;
  event.respondWith(
    get(path).then((record) =>
      record
        ? new Response(record.blob, {headers: {'Content-Type': record.type || 'application/octet-stream', 'Content-Length': String(record.blob.size)}})
        : new Response('not stored', {status: 404}),
    ),
  );
});
