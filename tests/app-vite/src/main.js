// The app's page: registers the app's own (Workbox) service worker, which imports the offline
// manager's, and drives downloads through the package's ES module.
/* global __APP_VERSION__ */
import {OfflineManager} from '@offline-manager/web';

window.APP_VERSION = __APP_VERSION__;
window.PACKAGE_VERSION = OfflineManager.version;
document.querySelector('#version').textContent = `${__APP_VERSION__} (offline manager ${OfflineManager.version})`;

// The app registers its worker; the offline manager is told which one it lives in. A bundled
// module cannot find the worker beside itself (it sits in assets/), so serviceWorkerUrl is given.
window.registration = navigator.serviceWorker.register('/sw.js', {scope: '/', updateViaCache: 'none'});
window.controllerChanges = 0;
navigator.serviceWorker.addEventListener('controllerchange', () => { window.controllerChanges += 1; });

const om = new OfflineManager({serviceWorkerUrl: '/sw.js', scope: '/'});
window.om = om;
window.events = [];
for (const type of ['progress', 'statechange', 'error']) {
  om.addEventListener(type, (e) => window.events.push({type, detail: e.payload.detail}));
}
document.querySelector('#status').textContent = 'ready';
