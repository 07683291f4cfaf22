// An app's own service worker with the offline manager inside (README, recipe 2), scope /pages/:
// `self.OFFLINE_MANAGER` says "embedded", so installing never skips waiting and activation never
// claims pages (the defaults): a new build of this worker waits until the app's pages are gone.
// Only `wasmUrl` is set, because the wasm is served at the root, not beside this file.
self.OFFLINE_MANAGER = {wasmUrl: '/offline-manager-sw_bg.wasm'};
importScripts('/offline-manager-sw.js');
