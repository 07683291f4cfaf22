// Widevine/PlayReady through persistent-license sessions, against a fake CDM (this Chromium has
// no Widevine, so the browser tests can only cover the refusal): the fake follows EME's shape
// (requestMediaKeySystemAccess → MediaKeys → MediaKeySession with generateRequest, a 'message'
// event, update, load, remove, close) and keeps licences by session id as a CDM does.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { OfflineManager, base64ToBytes } from '../build/index.js';
import { initDataFor } from '../build/persistent-sessions.js';
import { FakeContainer } from './fakes.mjs';

const SW = 'https://app.example/offline/offline-manager-sw.js';
const DASH = 'https://cdn.example/p/1/entry/0_wv/manifest.mpd';
const WV_URL = 'https://udrm.example/cenc/widevine/license?signature=x';
const WV_UUID = 'urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed';
const KID = '10000000-1000-1000-1000-100000000001';
const PSSH = 'AAAAMnBzc2gAAAAA7e+LqXnWSs6jyCfc1R0h7QAAABISEBAAAAAQABAAEAAQAAAAAAE=';

/** The fake CDM: licences kept by session id, like the browser's persistent store. */
class FakeCdm {
  constructor(keySystems) {
    this.keySystems = new Set(keySystems);
    this.stored = new Map(); // sessionId -> {initData, expiration}
    this.next = 0;
  }

  access(keySystem) {
    const cdm = this;
    return {
      keySystem,
      async createMediaKeys() {
        return {
          createSession: (type) => {
            assert.equal(type, 'persistent-license');
            return new FakeSession(cdm);
          },
        };
      },
    };
  }
}

class FakeSession extends EventTarget {
  constructor(cdm) {
    super();
    this.cdm = cdm;
    this.sessionId = '';
    this.expiration = NaN;
  }

  async generateRequest(type, initData) {
    assert.equal(type, 'cenc');
    this.initData = Buffer.from(initData).toString('base64');
    this.sessionId = `wv-session-${++this.cdm.next}`;
    const message = new TextEncoder().encode(`challenge for ${this.initData}`).buffer;
    queueMicrotask(() => this.dispatchEvent(Object.assign(new Event('message'), { messageType: 'license-request', message })));
  }

  async update(response) {
    const licence = JSON.parse(new TextDecoder().decode(response));
    this.expiration = licence.expiration ?? NaN;
    this.cdm.stored.set(this.sessionId, { initData: this.initData, expiration: this.expiration });
  }

  async load(id) {
    if (!this.cdm.stored.has(id)) return false;
    this.sessionId = id;
    return true;
  }

  async remove() {
    this.cdm.stored.delete(this.sessionId);
  }

  async close() {}
}

let cdm;
let licenceServer; // {status, expiration, posts}
const realFetch = globalThis.fetch;
const managers = [];

beforeEach(() => {
  cdm = new FakeCdm(['com.widevine.alpha']);
  licenceServer = { status: 200, expiration: 4e12, posts: [] };
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: {
      async requestMediaKeySystemAccess(keySystem, configs) {
        if (!cdm.keySystems.has(keySystem) || !configs[0].sessionTypes.includes('persistent-license')) {
          throw new DOMException('Unsupported keySystem or supportedConfigurations.', 'NotSupportedError');
        }
        return cdm.access(keySystem);
      },
    },
  });
  globalThis.fetch = async (url, init) => {
    licenceServer.posts.push({ url: String(url), method: init?.method, body: new TextDecoder().decode(init?.body) });
    return new Response(JSON.stringify({ expiration: licenceServer.expiration }), { status: licenceServer.status });
  };
});

afterEach(() => {
  for (const om of managers.splice(0)) om.destroy();
  globalThis.fetch = realFetch;
  delete globalThis.navigator;
});

async function setup(
  protection = [
    { scheme: 'urn:mpeg:dash:mp4protection:2011', value: 'cenc', defaultKid: KID, pssh: null, licenseUrl: null },
    { scheme: WV_UUID, value: null, defaultKid: null, pssh: PSSH, licenseUrl: null },
  ],
) {
  const container = new FakeContainer();
  const om = new OfflineManager({ serviceWorkerUrl: SW, serviceWorkerContainer: container, keepAliveMs: 0 });
  managers.push(om);
  while (!container.worker) await new Promise((r) => setTimeout(r, 1));
  const w = container.worker;
  w.entries.set('wv', {
    id: 'wv',
    state: 'prepared',
    protection,
    config: { id: 'wv', sources: { dash: [{ url: DASH, drmData: [{ scheme: 'com.widevine.alpha', licenseUrl: WV_URL }] }] } },
  });
  return { om, w, types: () => w.requests.map((r) => r.type).filter((t) => t !== 'ping') };
}

test('where the CDM keeps persistent licences, a Widevine download makes its session from the manifest pssh before any segment', async () => {
  const { om, w, types } = await setup();
  const summary = await om.download('wv', { bitrate: 400000 });
  assert.equal(summary.state, 'downloading');
  assert.deepEqual(types(), ['get', 'protection', 'keepSessions', 'download'], 'the session exists before the worker downloads');
  assert.deepEqual(w.entries.get('wv').plannedWith, { bitrate: 400000 }, 'the pssh comes from the tracks the download selects');
  assert.deepEqual(licenceServer.posts, [{ url: WV_URL, method: 'POST', body: `challenge for ${PSSH}` }]);
  const [kept] = w.entries.get('wv').sessions;
  assert.deepEqual(kept, { keySystem: 'com.widevine.alpha', sessionId: 'wv-session-1', initDataType: 'cenc', initData: PSSH, expiration: 4e12 });
  assert.ok(cdm.stored.has('wv-session-1'), 'the CDM keeps the licence');
  assert.equal(await om.getExpiration('wv'), 4e12);

  w.entries.get('wv').state = 'completed';
  const played = await om.getDownloadedMediaConfig('wv');
  assert.deepEqual(played.persistentSessions, [kept], 'the player gets the sessions to load offline');
  assert.deepEqual(played.sources.dash[0].drmData, [{ scheme: 'com.widevine.alpha', licenseUrl: WV_URL }]);
  assert.equal(played.localLicenseUrl, undefined, 'no worker licence endpoint: the CDM has the licence');
  assert.deepEqual([...base64ToBytes(kept.initData)], [...Buffer.from(PSSH, 'base64')]);
});

test('a manifest without a Widevine pssh gets a session from a pssh naming its default KID', () => {
  const [init] = initDataFor('com.widevine.alpha', [
    { scheme: 'urn:mpeg:dash:mp4protection:2011', value: 'cenc', defaultKid: KID, pssh: null, licenseUrl: null },
  ]);
  const box = Buffer.from(init);
  assert.equal(box.readUInt32BE(0), box.length);
  assert.equal(box.subarray(4, 8).toString(), 'pssh');
  assert.equal(box.subarray(12, 28).toString('hex'), 'edef8ba979d64acea3c827dcd51d21ed');
  assert.equal(box.subarray(32).toString('hex'), `1210${KID.replace(/-/g, '')}`);
  assert.deepEqual(
    initDataFor('com.microsoft.playready', [{ scheme: 'urn:mpeg:dash:mp4protection:2011', value: 'cenc', defaultKid: KID, pssh: null, licenseUrl: null }]),
    [],
    'PlayReady needs its pssh (a PlayReady header) from the manifest',
  );
});

test('content whose manifest gives no init data for the key system is refused with 9007 before the download', async () => {
  const { om, types } = await setup([{ scheme: 'urn:mpeg:dash:mp4protection:2011', value: 'cenc', defaultKid: null, pssh: null, licenseUrl: null }]);
  await assert.rejects(om.download('wv'), (e) => e.code === 9007 && /no init data/.test(e.data.message));
  assert.deepEqual(types(), ['get', 'protection']);
});

test('a licence server that refuses fails the download with 9011 naming it; nothing is downloaded and the CDM keeps nothing', async () => {
  const { om, types } = await setup();
  licenceServer.status = 403;
  await assert.rejects(om.download('wv'), (e) => e.code === 9011 && e.data.url === WV_URL && /HTTP 403/.test(e.data.message));
  assert.deepEqual(types(), ['get', 'protection']);
  assert.equal(cdm.stored.size, 0);
});

test('renewLicense makes new sessions from the stored init data and releases the old; a failed renewal keeps the old with 9016', async () => {
  const { om, w } = await setup();
  await om.download('wv');
  w.entries.get('wv').state = 'completed';
  licenceServer.expiration = 5e12;
  assert.equal(await om.renewLicense('wv'), 5e12);
  assert.deepEqual(
    w.entries.get('wv').sessions.map((s) => s.sessionId),
    ['wv-session-2'],
  );
  assert.deepEqual([...cdm.stored.keys()], ['wv-session-2'], 'the old licence is released from the CDM');
  assert.ok(!w.requests.some((r) => r.type === 'renew'), 'the worker cannot renew CDM sessions');

  licenceServer.status = 500;
  await assert.rejects(om.renewLicense('wv'), (e) => e.code === 9016 && /stored licence is kept/.test(e.data.message));
  assert.deepEqual(
    w.entries.get('wv').sessions.map((s) => s.sessionId),
    ['wv-session-2'],
  );
  assert.deepEqual([...cdm.stored.keys()], ['wv-session-2']);
  assert.equal(await om.getExpiration('wv'), 5e12);
});

test("remove and removeAll release the entries' sessions from the CDM", async () => {
  const { om, w } = await setup();
  await om.download('wv');
  assert.equal(cdm.stored.size, 1);
  assert.deepEqual(await om.remove('wv'), { entryId: 'wv' });
  assert.equal(cdm.stored.size, 0);

  w.entries.set('wv2', {
    id: 'wv2',
    state: 'prepared',
    protection: [{ scheme: WV_UUID, value: null, defaultKid: null, pssh: PSSH, licenseUrl: null }],
    config: { sources: { dash: [{ url: DASH, drmData: [{ scheme: 'com.widevine.alpha', licenseUrl: WV_URL }] }] } },
  });
  await om.download('wv2');
  assert.equal(cdm.stored.size, 1);
  assert.deepEqual(await om.removeAll(), { entryIds: ['wv2'] });
  assert.equal(cdm.stored.size, 0);
});

test('without persistent-license sessions for the system, the download is refused with 9009 before the worker plans it', async () => {
  const { om, types } = await setup();
  cdm.keySystems.clear();
  await assert.rejects(om.download('wv'), (e) => e.code === 9009 && /com\.widevine\.alpha.*cannot keep their licences offline/.test(e.data.message));
  assert.deepEqual(types(), ['get']);
});

test('sessions the worker could not keep are released from the CDM and nothing is downloaded', async () => {
  const { om, w, types } = await setup();
  const handle = w.handle.bind(w);
  w.handle = (m) => {
    if (m.type === 'keepSessions') throw { severity: 2, category: 9, code: 9001, data: { message: 'IndexedDB refused the write' } };
    return handle(m);
  };
  await assert.rejects(om.download('wv'), (e) => e.code === 9001);
  assert.equal(cdm.stored.size, 0);
  assert.deepEqual(types(), ['get', 'protection', 'keepSessions']);
});

test('renewal stays with the key system of the stored sessions when the config offers several', async () => {
  const { om, w } = await setup();
  cdm.keySystems.add('com.microsoft.playready');
  await om.download('wv');
  w.entries.get('wv').config.sources.dash[0].drmData.unshift({ scheme: 'com.microsoft.playready', licenseUrl: 'https://udrm.example/playready' });
  await om.renewLicense('wv');
  assert.deepEqual(
    w.entries.get('wv').sessions.map((s) => s.keySystem),
    ['com.widevine.alpha'],
  );
  assert.deepEqual(
    licenceServer.posts.map((p) => p.url),
    [WV_URL, WV_URL],
  );
});

test('with an MSE probe, the sessions come from the protection of the tracks the playable options select', async () => {
  const avc = { mimeType: 'video/mp4', codecs: 'avc1.64001f' };
  const lvc = { mimeType: 'video/mp4', codecs: 'lvc1' };
  globalThis.MediaSource = { isTypeSupported: (t) => t === 'video/mp4; codecs="avc1.64001f"' };
  try {
    const { om, w, types } = await setup();
    w.entries.get('wv').mediaTypes = [avc, lvc];
    await om.download('wv');
    assert.deepEqual(
      types(),
      ['get', 'protection', 'protection', 'keepSessions', 'download'],
      'a probe that rules a type out changes the selection: its protection is asked for again',
    );
    assert.deepEqual(w.entries.get('wv').plannedWith, { playable: [avc] });
    assert.deepEqual(w.requests.find((r) => r.type === 'download').options, { playable: [avc] });

    const again = await setup();
    again.w.entries.get('wv').mediaTypes = [avc];
    await again.om.download('wv');
    assert.deepEqual(again.types(), ['get', 'protection', 'keepSessions', 'download'], 'every type plays: one protection answer serves');
  } finally {
    delete globalThis.MediaSource;
  }
});
