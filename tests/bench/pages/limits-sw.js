// Peer of the limits benchmark (tests/bench/limits-bench.mjs): a plain JavaScript service
// worker that runs the fetch-and-store pipeline of pages/limits-pipeline.js in the worker's own
// context, where our worker downloads, so that the cost of the context is told apart from the
// cost of our code. A message {items, concurrency, batch} is answered on its port with the
// pipeline's figures or {error}.
'use strict';

importScripts('/bench/limits-pipeline.js');

self.addEventListener('install', (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  const [port] = event.ports;
  event.waitUntil(
    self.limitsPipeline.fetchAndStore({...event.data, database: 'limits-scratch-sw'}).then(
      (figures) => port.postMessage(figures),
      (e) => port.postMessage({error: String(e)}),
    ),
  );
});
