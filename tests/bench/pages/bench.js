// Page-side helpers of the browser benchmarks (tests/bench/*-bench.mjs), as window.bench.
// Every timing is taken here, in the page, with performance.now().
'use strict';

(() => {
  const withTimeout = (promise, ms, what) =>
    Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))]);
  const describe = (e) => (e instanceof Error ? e.message : JSON.stringify(e));
  const request = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });

  /** Our OfflineManager (ours.html and player.html load the shim). */
  const om = () => (window.om ??= new window.OfflineManager());

  /** Resolves once a service worker controls this page. */
  async function waitControlled(ms = 10000) {
    if (navigator.serviceWorker.controller) return;
    await withTimeout(new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, {once: true})), ms, 'controllerchange');
  }

  /** Stores a plain-config entry through window.OfflineManager; resolves when it is completed. */
  async function download(entryId, mpdUrl, options) {
    const manager = om();
    const all = await manager.getAllDownloads();
    if (all.some((e) => e.id === entryId && e.state === 'completed')) return;
    const done = new Promise((resolve, reject) =>
      manager.addEventListener('statechange', (e) => {
        const d = e.payload.detail;
        if (d.entryId === entryId && d.state === 'completed') resolve();
        if (d.entryId === entryId && d.state === 'failed') reject(new Error(`download failed: ${JSON.stringify(d)}`));
      }),
    );
    try {
      await manager.getMediaConfig({entryId, sources: {dash: [{url: mpdUrl, mimetype: 'application/dash+xml'}]}});
      await manager.download(entryId, options);
    } catch (e) {
      throw new Error(`download ${entryId}: ${describe(e)}`);
    }
    await withTimeout(done, 120000, `download ${entryId}`);
    await waitControlled();
  }

  /**
   * The stored segments of an entry, read from the worker's IndexedDB (layout in README.md;
   * segments stored in several chunks are left out):
   * [{local (our worker's URL), url (the original), size, type, track, index, range}].
   */
  async function storedSegments(entryId) {
    const db = await request(indexedDB.open('offline-manager'));
    try {
      const store = db.transaction('segments').objectStore('segments');
      const records = await request(store.getAll(IDBKeyRange.bound([entryId], [entryId, []])));
      return records
        .filter((r) => r.track !== 'poster' && r.chunk === 0 && (r.chunks ?? 1) === 1)
        .map((r) => ({
          local: `${location.origin}/__offline__/${encodeURIComponent(entryId)}/${r.track}/${r.index}`,
          url: r.url,
          size: r.size,
          type: r.type,
          track: r.track,
          index: r.index,
          range: r.range ?? null,
        }));
    } finally {
      db.close();
    }
  }

  /** Registers a peer worker script and waits until it controls this page. */
  async function registerWorker(scriptUrl) {
    await navigator.serviceWorker.register(scriptUrl);
    await withTimeout(navigator.serviceWorker.ready, 10000, 'worker ready');
    await waitControlled();
  }

  /** Fetches each URL in turn (fetch + arrayBuffer); returns the milliseconds of each. */
  async function fetchTimes(urls) {
    const times = [];
    for (const url of urls) {
      const t0 = performance.now();
      const response = await fetch(url, {cache: 'no-store'});
      const body = await response.arrayBuffer();
      times.push(performance.now() - t0);
      if (response.status !== 200 || body.byteLength === 0) {
        throw new Error(`${url}: HTTP ${response.status}, ${body.byteLength} bytes`);
      }
    }
    return times;
  }

  /** Protocol v1 ping to the controlling worker; resolves with its result. */
  async function ping() {
    const channel = new MessageChannel();
    const id = Math.floor(Math.random() * 1e9);
    const answer = new Promise((resolve) => {
      channel.port1.onmessage = (e) => resolve(e.data);
    });
    navigator.serviceWorker.controller.postMessage({v: 1, id, type: 'ping'}, [channel.port2]);
    const reply = await withTimeout(answer, 5000, 'ping');
    if (!reply.ok) throw new Error(`ping: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  async function fetchBlob(url) {
    const response = await fetch(url, {cache: 'no-store'});
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.blob();
  }

  /** Puts items [{key, url, type}] into Cache Storage under `key`, as precaching does. */
  async function cacheStore(items) {
    const cache = await caches.open('bench-segments');
    for (const {key, url, type} of items) {
      const blob = await fetchBlob(url);
      const headers = {'Content-Type': type || 'application/octet-stream', 'Content-Length': String(blob.size)};
      await cache.put(key, new Response(blob, {headers}));
    }
  }

  /** Puts items [{key, url, type}] into IndexedDB `plain-bench` (what idb-sw.js answers from). */
  async function idbStore(items) {
    const blobs = [];
    for (const item of items) blobs.push({key: item.key, type: item.type, blob: await fetchBlob(item.url)});
    const open = indexedDB.open('plain-bench', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('segments');
    const db = await request(open);
    const tx = db.transaction('segments', 'readwrite');
    for (const {key, type, blob} of blobs) tx.objectStore('segments').put({blob, type}, key);
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  }

  /** Kaltura Player: setup, then milliseconds from setMedia(config) to the `playing` event. */
  async function playStart(config, abr) {
    const player = window.KalturaPlayer.setup({
      targetId: 'player',
      provider: {partnerId: 1234},
      playback: {autoplay: true, muted: true},
      abr,
    });
    const playingEvent = player.Event.Core?.PLAYING ?? player.Event.PLAYING ?? 'playing';
    const playing = new Promise((resolve, reject) => {
      player.addEventListener(playingEvent, resolve);
      player.addEventListener(player.Event.ERROR, (e) => {
        if (e.payload?.severity === 2) reject(new Error(`player error ${JSON.stringify(e.payload)}`));
      });
    });
    try {
      const t0 = performance.now();
      player.setMedia(config);
      await withTimeout(playing, 30000, 'playing');
      return performance.now() - t0;
    } finally {
      player.destroy();
    }
  }

  /**
   * Starts the download of a plain-config entry and plays it at once: ms from `download()` to the
   * player's `playing`, then waits for the download to complete.
   */
  async function downloadAndPlay(entryId, mpdUrl, options, abr) {
    const manager = om();
    const done = new Promise((resolve, reject) =>
      manager.addEventListener('statechange', (e) => {
        const d = e.payload.detail;
        if (d.entryId === entryId && d.state === 'completed') resolve();
        if (d.entryId === entryId && d.state === 'failed') reject(new Error(`download failed: ${JSON.stringify(d)}`));
      }),
    );
    await manager.getMediaConfig({entryId, sources: {dash: [{url: mpdUrl, mimetype: 'application/dash+xml'}]}});
    const t0 = performance.now();
    await manager.download(entryId, options);
    const config = await manager.getDownloadedMediaConfig(entryId);
    const before = performance.now() - t0;
    const ms = before + (await playStart(config, abr));
    await withTimeout(done, 120000, 'download');
    await manager.remove(entryId);
    return ms;
  }

  window.bench = {om, waitControlled, download, storedSegments, registerWorker, fetchTimes, ping, cacheStore, idbStore, playStart, downloadAndPlay};
})();
