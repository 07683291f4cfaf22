// A ClearKey entry is stored only where EME can decrypt it: the worker keeps the licence, but
// without `requestMediaKeySystemAccess('org.w3.clearkey')` (this WebKitGTK has no EME) no player
// could play the stored copy, so the download is refused before the worker is asked.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { OfflineManager } from '../build/offline-manager.js';
import { FakeContainer } from './fakes.mjs';

const DASH = 'https://cdn.example/enc/manifest.mpd';
const CLEARKEY = { sources: { dash: [{ url: DASH, drmData: [{ scheme: 'org.w3.clearkey', licenseUrl: 'https://lic.example/ck' }] }] } };
const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
const managers = [];
afterEach(() => {
  for (const om of managers.splice(0)) om.destroy();
  if (had) Object.defineProperty(globalThis, 'navigator', had);
  else delete globalThis.navigator;
});

/** An OfflineManager on a fake worker holding one prepared ClearKey entry, with `navigator` as given. */
async function withNavigator(navigator) {
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true });
  const container = new FakeContainer();
  const om = new OfflineManager({ serviceWorkerUrl: 'https://app.example/sw.js', serviceWorkerContainer: container, keepAliveMs: 0 });
  managers.push(om);
  while (!container.worker) await new Promise((r) => setTimeout(r, 1));
  container.worker.entries.set('ck', { id: 'ck', state: 'prepared', config: CLEARKEY });
  return { om, downloads: () => container.worker.requests.filter((r) => r.type === 'download') };
}

test('a ClearKey entry is refused with 9009 where the browser has no EME, before the worker downloads', async () => {
  const { om, downloads } = await withNavigator({});
  await assert.rejects(om.download('ck'), (e) => e.code === 9009 && /no EME/.test(e.data.message) && e.data.keySystems[0] === 'org.w3.clearkey');
  assert.deepEqual(downloads(), []);
});

test('a ClearKey entry is refused with 9009 where EME refuses ClearKey', async () => {
  const { om, downloads } = await withNavigator({
    requestMediaKeySystemAccess: async () => {
      throw new Error('NotSupportedError');
    },
  });
  await assert.rejects(om.download('ck'), (e) => e.code === 9009);
  assert.deepEqual(downloads(), []);
});

test('a ClearKey entry downloads where EME offers ClearKey', async () => {
  const asked = [];
  const { om, downloads } = await withNavigator({
    requestMediaKeySystemAccess: async (keySystem) => {
      asked.push(keySystem);
      return {};
    },
  });
  const summary = await om.download('ck');
  assert.equal(summary.state, 'downloading');
  assert.deepEqual(asked, ['org.w3.clearkey']);
  assert.equal(downloads().length, 1);
});
