// Peer of the serving benchmark: a plain JavaScript service worker that answers stored segments
// from Cache Storage the way Workbox's CacheFirst strategy does (open the named cache, match the
// request, return the cached Response). The page puts the segments under /bench/seg/N
// (bench.js cacheStore), so every answer comes from the cache, never from the network.
'use strict';

const CACHE = 'bench-segments';

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  if (!new URL(event.request.url).pathname.startsWith('/bench/seg/')) return;
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(event.request))
      .then((hit) => hit || new Response('not cached', {status: 404})),
  );
});
