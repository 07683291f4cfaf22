// The app's page: registers the app's own (Workbox) service worker, which imports the offline
// manager's, and drives downloads through the package's ES module.
/* global __APP_VERSION__ */
import {OfflineManager} from '@offline-manager/web';
import shaka from 'shaka-player';

window.APP_VERSION = __APP_VERSION__;
window.PACKAGE_VERSION = OfflineManager.version;
document.querySelector('#version').textContent = `${__APP_VERSION__} (offline manager ${OfflineManager.version})`;

// The app registers its worker; the offline manager is told which one it lives in. A bundled
// module cannot find the worker beside itself (it sits in assets/), so serviceWorkerUrl is given.
window.registration = navigator.serviceWorker.register('/sw.js', {scope: '/', updateViaCache: 'none'});
window.controllerChanges = 0;
navigator.serviceWorker.addEventListener('controllerchange', () => {
  window.controllerChanges += 1;
});

const om = new OfflineManager({serviceWorkerUrl: '/sw.js', scope: '/'});
window.om = om;
window.events = [];
for (const type of ['progress', 'statechange', 'error']) {
  om.addEventListener(type, (e) => window.events.push({type, detail: e.payload.detail}));
}
document.querySelector('#status').textContent = 'ready';

/** Plays `url` in the page's video with shaka-player until it passes `seconds`; reports how far it got. */
window.playFor = async (url, seconds) => {
  const video = document.querySelector('#video');
  const player = new shaka.Player();
  await player.attach(video);
  const errors = [];
  player.addEventListener('error', (e) => errors.push(String(e.detail?.code ?? e)));
  await player.load(url).catch((e) => errors.push(`load ${e.code ?? e}`));
  await video.play().catch(() => {});
  for (const start = Date.now(); video.currentTime <= seconds && !errors.length && Date.now() - start < 30000; ) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const result = {currentTime: video.currentTime, errors};
  await player.destroy();
  return result;
};
