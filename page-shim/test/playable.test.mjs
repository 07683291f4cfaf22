// The capability probe: before a download the shim asks the worker for the manifest's audio/video
// types, tests each with MSE's isTypeSupported, and sends the supported ones as `playable`, so the
// worker never stores what no player here could start.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { OfflineManager } from '../build/index.js';
import { mseType, playableTypes } from '../build/playable.js';
import { FakeContainer } from './fakes.mjs';

const SW = 'https://app.example/offline/offline-manager-sw.js';
const DASH = 'https://cdn.example/p/1/entry/0_lcevc/manifest.mpd';
const AVC = { mimeType: 'video/mp4', codecs: 'avc1.64001f' };
const LVC = { mimeType: 'video/mp4', codecs: 'lvc1' };
const AAC = { mimeType: 'audio/mp4', codecs: 'mp4a.40.2' };
const BARE = { mimeType: 'audio/mp4', codecs: '' };

const managers = [];
afterEach(() => {
  for (const om of managers.splice(0)) om.destroy();
  delete globalThis.MediaSource;
  delete globalThis.ManagedMediaSource;
});

/** An MSE stand-in that plays `supported` (type strings) and records what it was asked. */
function fakeMse(supported) {
  const asked = [];
  return {
    asked,
    isTypeSupported: (type) => {
      asked.push(type);
      return supported.includes(type);
    },
  };
}

async function setup(entry = {}) {
  const container = new FakeContainer();
  const om = new OfflineManager({ serviceWorkerUrl: SW, serviceWorkerContainer: container, keepAliveMs: 0 });
  managers.push(om);
  while (!container.worker) await new Promise((r) => setTimeout(r, 1));
  const w = container.worker;
  w.entries.set('lc', { id: 'lc', state: 'prepared', mediaTypes: [AVC, LVC, AAC], config: { id: 'lc', sources: { dash: [{ url: DASH }] } }, ...entry });
  const types = () => w.requests.map((r) => r.type).filter((t) => t !== 'ping');
  const download = () => w.requests.find((r) => r.type === 'download');
  return { om, w, types, download };
}

test('download probes the manifest types with MediaSource and sends only the playable ones', async () => {
  const mse = fakeMse(['video/mp4; codecs="avc1.64001f"', 'audio/mp4; codecs="mp4a.40.2"']);
  globalThis.MediaSource = mse;
  const { om, types, download } = await setup();
  await om.download('lc', { language: 'en' });
  assert.deepEqual(types(), ['get', 'protection', 'download']);
  assert.deepEqual(mse.asked, ['video/mp4; codecs="avc1.64001f"', 'video/mp4; codecs="lvc1"', 'audio/mp4; codecs="mp4a.40.2"']);
  assert.deepEqual(download().options, { language: 'en', playable: [AVC, AAC] });
});

test('where MediaSource is missing, ManagedMediaSource answers the probe', async () => {
  globalThis.ManagedMediaSource = fakeMse(['video/mp4; codecs="avc1.64001f"']);
  const { om, download } = await setup();
  await om.download('lc');
  assert.deepEqual(download().options, { playable: [AVC] });
});

test('without MSE nothing is probed and the worker keeps its own rules', async () => {
  const { om, types, download } = await setup();
  await om.download('lc', { bitrate: 1000 });
  assert.deepEqual(types(), ['get', 'download']);
  assert.deepEqual(download().options, { bitrate: 1000 });
});

test('a completed entry is not probed: the worker refuses its download without fetching the manifest', async () => {
  globalThis.MediaSource = fakeMse([]);
  const { om, types } = await setup({ state: 'completed' });
  await om.download('lc').catch(() => undefined);
  assert.equal(types().includes('protection'), false);
});

test('a type without codecs is kept unasked (MSE refuses a bare MIME type), and a probe that throws means unsupported', () => {
  assert.equal(mseType(BARE), 'audio/mp4');
  assert.equal(mseType(LVC), 'video/mp4; codecs="lvc1"');
  const asked = [];
  const probe = {
    isTypeSupported: (t) => {
      asked.push(t);
      if (t.includes('lvc1')) throw new TypeError('bad type');
      return t !== 'audio/mp4';
    },
  };
  assert.deepEqual(playableTypes([AVC, LVC, BARE, { mimeType: 1 }], probe), [AVC, BARE]);
  assert.deepEqual(asked, ['video/mp4; codecs="avc1.64001f"', 'video/mp4; codecs="lvc1"']);
  assert.equal(playableTypes(undefined, probe), undefined, 'an answer without mediaTypes sends no playable option');
  assert.equal(playableTypes([AVC], undefined), undefined);
});
