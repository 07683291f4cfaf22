// The app's own worker code, imported by sw.js before offline-manager-sw.js. It configures the
// offline manager (an object here means "embedded": install/activate stay the app's decision)
// and keeps a message handler of its own, which the offline manager leaves alone.
self.OFFLINE_MANAGER = {wasmUrl: 'offline-manager-sw_bg.wasm'};

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'app-hello' && event.ports[0]) {
    event.ports[0].postMessage({app: true, offlineManager: self.OFFLINE_MANAGER_INFO || null});
  }
});
