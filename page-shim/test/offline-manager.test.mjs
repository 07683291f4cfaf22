// The OfflineManager against a fake service worker container (no browser).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { OfflineManager } from '../build/offline-manager.js';
import { FakeBackgroundFetch, FakeContainer, record } from './fakes.mjs';

const SW = 'https://app.example/offline/offline-manager-sw.js';
const SCOPE = 'https://app.example/offline/';
const DASH = 'https://cdn.example/p/1/entry/0_abc/manifest.mpd';

const managers = [];
function make(options = {}, containerOptions) {
  const container = options.serviceWorkerContainer ?? new FakeContainer(containerOptions);
  const om = new OfflineManager({ serviceWorkerUrl: SW, serviceWorkerContainer: container, keepAliveMs: 0, ...options });
  managers.push(om);
  return { om, container, events: record(om) };
}
const worker = async (container) => {
  while (!container.worker) await new Promise((r) => setTimeout(r, 1));
  return container.worker;
};
const sent = (w, type) => w.requests.filter((r) => r.type === type);

afterEach(() => {
  for (const om of managers.splice(0)) om.destroy();
  delete globalThis.KalturaPlayer;
});

function completedEntry(w, id, extra = {}) {
  w.entries.set(id, {
    id,
    state: 'completed',
    progress: 100,
    size: 5000,
    expectedSize: 5000,
    segmentsDone: 4,
    segmentsTotal: 4,
    config: {
      id,
      sources: { dash: [{ id: 'src1', url: DASH, mimetype: 'application/dash+xml' }], hls: [{ url: 'h' }], progressive: [] },
      duration: 60,
      poster: 'p.jpg',
      metadata: { name: 'Clip' },
      plugins: {},
    },
    ...extra,
  });
}

test('the constructor registers the worker once, scoped to its directory, and starts messages', async () => {
  const { container } = make();
  await worker(container);
  assert.deepEqual(container.registerCalls, [{ scriptURL: SW, options: { scope: SCOPE, updateViaCache: 'none' } }]);
  assert.equal(container.started, true);
  const second = make({ serviceWorkerContainer: container });
  await second.om.getAllDownloads();
  assert.equal(container.registerCalls.length, 1, 'an existing registration is reused');
});

test('download works without getMediaConfig in this page and sends the protocol fields', async () => {
  const { om, container } = make();
  const w = await worker(container);
  w.entries.set('0_abc', { id: '0_abc', state: 'prepared', config: { sources: { dash: [{ url: DASH }] } } });
  const summary = await om.download('0_abc', { language: 'es', bitrate: 800000.4, bogus: 1 });
  assert.equal(summary.state, 'downloading');
  assert.equal(summary.id, '0_abc');
  const [req] = sent(w, 'download');
  assert.deepEqual({ ...req, id: 0 }, { v: 1, id: 0, type: 'download', entryId: '0_abc', options: { language: 'es', bitrate: 800000 } });
  assert.equal(typeof req.id, 'number');
});

test("download asks the browser to keep the origin's storage from eviction", async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  let asked = 0;
  Object.defineProperty(globalThis, 'navigator', {
    value: {
      storage: {
        persist: async () => {
          asked++;
          return true;
        },
      },
    },
    configurable: true,
  });
  try {
    const { om, container } = make();
    const w = await worker(container);
    w.entries.set('0_p', { id: '0_p', state: 'prepared', config: { sources: { dash: [{ url: DASH }] } } });
    await om.download('0_p');
    assert.equal(asked, 1);
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete globalThis.navigator;
  }
});

test('getMediaConfig with a plain config: JSON copy, derived or given id, prepare sent, config returned', async () => {
  const { om, container } = make();
  const w = await worker(container);
  const config = await om.getMediaConfig({ sources: { dash: [{ url: DASH }] }, metadata: { name: 'n' }, onEnd: () => 1, skip: undefined });
  assert.match(config.id, /^0_abc_manifest-[0-9a-f]{8}$/);
  const [req] = sent(w, 'prepare');
  assert.equal(req.entryId, config.id);
  assert.deepEqual(req.config, { id: config.id, sources: { dash: [{ url: DASH }] }, metadata: { name: 'n' } });
  assert.deepEqual(config, req.config);

  const named = await om.getMediaConfig({ entryId: 'mine', sources: { dash: [{ url: DASH }] } });
  assert.equal(named.id, 'mine');
  assert.equal('entryId' in named, false);
  assert.equal(sent(w, 'prepare')[1].entryId, 'mine');
  await om.getMediaConfig({ id: 'byId', sources: { dash: [{ url: DASH }] } });
  assert.equal(sent(w, 'prepare')[2].entryId, 'byId');
});

test('getMediaConfig({entryId, ks}) asks the Kaltura provider with the provider config and player version', async () => {
  const calls = [];
  globalThis.KalturaPlayer = {
    VERSION: '3.17.95',
    providers: {
      Provider: class {
        constructor(options, version) {
          calls.push({ options, version });
        }
        getMediaConfig(info) {
          calls.push({ info });
          return Promise.resolve({
            session: { isAnonymous: true, partnerId: 1234, ks: 'KS' },
            sources: { dash: [{ id: '0_abc_911', url: DASH, mimetype: 'application/dash+xml' }], hls: [], progressive: [] },
            id: '0_abc',
            duration: 60,
            type: 'Vod',
            poster: 'p',
            metadata: { name: 'Clip' },
            plugins: {},
            fn() {},
          });
        }
      },
    },
  };
  const provider = { partnerId: 1234, env: { serviceUrl: 'https://api.example/api_v3' } };
  const { om, container } = make({ provider });
  const w = await worker(container);
  const config = await om.getMediaConfig({ entryId: '0_abc', ks: 'user-ks' });
  assert.deepEqual(calls[0], { options: provider, version: '3.17.95' });
  assert.notEqual(calls[0].options, provider, 'the provider gets a copy');
  assert.deepEqual(calls[1], { info: { entryId: '0_abc', ks: 'user-ks' } });
  assert.equal(config.sources.dash[0].id, '0_abc_911');
  assert.equal('fn' in config, false, 'functions are stripped');
  assert.deepEqual(sent(w, 'prepare')[0].config, config);
  assert.equal(sent(w, 'prepare')[0].entryId, '0_abc');
});

test('the provider hanging rejects 9012 after providerTimeoutMs and dispatches an error event', async () => {
  globalThis.KalturaPlayer = {
    VERSION: 'x',
    providers: {
      Provider: class {
        getMediaConfig() {
          return new Promise(() => {});
        }
      },
    },
  };
  const { om, container, events } = make({ provider: { partnerId: 1 }, providerTimeoutMs: 30 });
  const w = await worker(container);
  await assert.rejects(om.getMediaConfig({ entryId: '0_x' }), (e) => {
    assert.equal(e.code, 9012);
    assert.equal(e.severity, 1);
    assert.equal(e.data.entryId, '0_x');
    assert.match(e.data.message, /did not answer within 30 ms/);
    return true;
  });
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'error');
  assert.equal(events[0].payload.detail.code, 9012);
  assert.equal(sent(w, 'prepare').length, 0);
});

test('the provider failing, or missing, or unconfigured rejects 9012 with what to do', async () => {
  const { om } = make({ provider: { partnerId: 1 } });
  await assert.rejects(om.getMediaConfig({ entryId: '0_x' }), (e) => e.code === 9012 && /load the Kaltura Player script/.test(e.data.message));
  globalThis.KalturaPlayer = {
    providers: {
      Provider: class {
        getMediaConfig() {
          return Promise.reject({ severity: 2, category: 12, code: 12005, data: 'bad' });
        }
      },
    },
  };
  await assert.rejects(
    om.getMediaConfig({ entryId: '0_x' }),
    (e) => e.code === 9012 && e.data.cause.code === 12005 && /check the entry id/.test(e.data.message),
  );
  const bare = make().om;
  await assert.rejects(bare.getMediaConfig({ entryId: '0_x' }), (e) => e.code === 9012 && /no provider config/.test(e.data.message));
});

test('a config without DASH rejects 9009 and is not sent', async () => {
  const { om, container } = make();
  const w = await worker(container);
  await assert.rejects(
    om.getMediaConfig({ entryId: 'h', sources: { hls: [{ url: 'a.m3u8' }], dash: [] } }),
    (e) => e.code === 9009 && /only DASH can be stored offline/.test(e.data.message) && /1 HLS/.test(e.data.message),
  );
  assert.equal(sent(w, 'prepare').length, 0);
});

test('bad arguments reject with 9013 / 9010 before anything is sent', async () => {
  const { om, container, events } = make();
  const w = await worker(container);
  await assert.rejects(om.download(''), (e) => e.code === 9013 && /download needs an entry id/.test(e.data.message));
  await assert.rejects(om.pause(undefined), { code: 9013 });
  await assert.rejects(om.remove('a\nb'), { code: 9013 });
  await assert.rejects(om.getDownloadedMediaConfig('x'.repeat(257)), { code: 9013 });
  await assert.rejects(om.download('a', { bitrate: -5 }), (e) => e.code === 9010 && /bitrate/.test(e.data.message));
  await assert.rejects(om.download('a', { language: 3 }), { code: 9010 });
  await assert.rejects(om.getMediaConfig(null), { code: 9010 });
  await assert.rejects(om.getMediaConfig({}), { code: 9010 });
  assert.equal(events.length, 8);
  assert.deepEqual(w.requests, []);
  // An OTT asset id given as a number is accepted.
  await assert.rejects(om.pause(12345), (e) => e.code === 9013 && e.data.entryId === '12345');
});

test('getDownloadedMediaConfig returns the stored config with a local DASH source and the storage state', async () => {
  const { om, container } = make();
  const w = await worker(container);
  completedEntry(w, '0_abc');
  const c = await om.getDownloadedMediaConfig('0_abc');
  assert.deepEqual(c.sources, {
    dash: [{ id: 'src1_local', url: `${SCOPE}__offline__/0_abc/manifest.mpd`, mimetype: 'application/dash+xml', isLocal: true, localSource: true }],
    hls: [],
    progressive: [],
    poster: 'p.jpg', // the worker's poster: a local URL once it is stored
  });
  assert.equal(c.id, '0_abc');
  assert.equal(c.state, 'completed');
  assert.equal(c.size, 5000);
  assert.equal(c.expectedSize, 5000);
  assert.equal(c.expiration, null);
  assert.equal(c.duration, 60);
  assert.equal(c.poster, 'p.jpg');
  assert.deepEqual(c.metadata, { name: 'Clip' });
  assert.deepEqual(c.plugins, {});
});

test('the local source id falls back to the entry id', async () => {
  const { om, container } = make();
  const w = await worker(container);
  w.entries.set('plain', { id: 'plain', state: 'completed', config: { sources: { dash: [{ url: DASH }] } } });
  const c = await om.getDownloadedMediaConfig('plain');
  assert.equal(c.sources.dash[0].id, 'plain_local');
  assert.equal(c.id, 'plain');
});

test('getDownloadedMediaConfig: a paused download plays with its state and progress; 9003 before download, 9013 (from the worker) when missing', async () => {
  const { om, container, events } = make();
  const w = await worker(container);
  completedEntry(w, 'half', { state: 'paused', stopReason: 'user', progress: 42.7, segmentsDone: 2 });
  const half = await om.getDownloadedMediaConfig('half');
  assert.equal(half.state, 'paused');
  assert.equal(half.progress, 42.7);
  assert.equal(half.sources.dash[0].isLocal, true);
  assert.match(half.sources.dash[0].url, /__offline__\/half\/manifest\.mpd$/);
  const storedOnly = await om.getDownloadedMediaConfig('half', { storedOnly: true });
  assert.match(storedOnly.sources.dash[0].url, /__offline__\/half\/manifest\.mpd\?stored-only$/, "the worker's stored-only manifest URL");
  completedEntry(w, 'fresh', { state: 'prepared', progress: 0, segmentsDone: 0, segmentsTotal: 0 });
  await assert.rejects(om.getDownloadedMediaConfig('fresh'), (e) => {
    assert.equal(e.code, 9003);
    assert.equal(e.data.state, 'prepared');
    assert.match(e.data.message, /has not started downloading \(state prepared\); call download\('fresh'\) first/);
    return true;
  });
  await assert.rejects(om.getDownloadedMediaConfig('nope'), (e) => e.code === 9013 && e.data.entryId === 'nope');
  assert.deepEqual(
    events.map((e) => e.payload.detail.code),
    [9003, 9013],
  );
});

test('getAllDownloads says whether the browser keeps the storage, as navigator.storage.persisted() answers', async () => {
  const { om, container } = make();
  const w = await worker(container);
  completedEntry(w, 'a');
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  try {
    for (const answer of [true, false]) {
      Object.defineProperty(globalThis, 'navigator', { value: { storage: { persisted: async () => answer } }, configurable: true });
      assert.equal((await om.getAllDownloads())[0].persisted, answer);
    }
    Object.defineProperty(globalThis, 'navigator', { value: { storage: { persisted: async () => Promise.reject(new Error('no')) } }, configurable: true });
    assert.equal((await om.getAllDownloads())[0].persisted, false, 'a browser that cannot say counts as not persistent');
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete globalThis.navigator;
  }
});

test('getAllDownloads sends the tag of the listing it holds, and an unchanged library comes back equal, in a fresh copy per call', async () => {
  const { om, container } = make();
  const w = await worker(container);
  completedEntry(w, 'a');
  const first = await om.getAllDownloads();
  const second = await om.getAllDownloads();
  const [ask1, ask2] = sent(w, 'listing');
  assert.equal(ask1.since, undefined, 'the first call holds no listing');
  assert.match(ask2.since, /^fake\./, 'the second sends the tag the first got');
  assert.deepEqual(second, first);
  first[0].metadata.name = 'changed by the app';
  assert.equal((await om.getAllDownloads())[0].metadata.name, 'Clip', "an app's change to a result is not in the next one");
  completedEntry(w, 'b');
  assert.deepEqual(
    (await om.getAllDownloads()).map((e) => e.id),
    ['a', 'b'],
    'a changed library is listed whole',
  );
});

test('verify sends the entry and repair to the worker and resolves with its report', async () => {
  const { om, container } = make();
  const w = await worker(container);
  completedEntry(w, 'a', { state: 'failed' });
  const report = await om.verify('a', { repair: true });
  assert.deepEqual(
    sent(w, 'verify').map(({ entryId, repair }) => ({ entryId, repair })),
    [{ entryId: 'a', repair: true }],
  );
  assert.equal(report.ok, false);
  assert.equal(report.state, 'downloading');
  await om.verify('a');
  assert.equal(sent(w, 'verify')[1].repair, undefined, 'no repair unless asked');
  await assert.rejects(om.verify(''), (e) => e.code === 9013);
});

test('getAllDownloads, pause, resume, remove, pauseAll, removeAll resolve to documented values', async () => {
  const { om, container } = make();
  const w = await worker(container);
  completedEntry(w, 'a');
  completedEntry(w, 'b', { state: 'downloading', progress: 10 });
  const all = await om.getAllDownloads();
  assert.deepEqual(all[0], {
    id: 'a',
    metadata: { name: 'Clip' },
    poster: 'p.jpg',
    expectedSize: 5000,
    size: 5000,
    expiration: null,
    duration: 60,
    state: 'completed',
    progress: 100,
    stopReason: null,
    mode: 'foreground',
    persisted: false,
  });
  assert.equal((await om.pause('b')).state, 'paused');
  assert.equal((await om.resume('b')).state, 'downloading');
  assert.deepEqual(await om.pauseAll(), { entryIds: ['b'] });
  assert.deepEqual(await om.remove('a'), { entryId: 'a' });
  assert.deepEqual(await om.removeAll(), { entryIds: ['b'] });
  assert.deepEqual(await om.getAllDownloads(), []);
  assert.deepEqual(sent(w, 'pauseAll')[0], { v: 1, id: sent(w, 'pauseAll')[0].id, type: 'pauseAll' });
});

test('getExpiration is null for clear content and renewLicense rejects 9016', async () => {
  const { om, container } = make();
  const w = await worker(container);
  completedEntry(w, 'a');
  assert.equal(await om.getExpiration('a'), null);
  await assert.rejects(om.renewLicense('a'), (e) => e.code === 9016 && /no licence to renew/.test(e.data.message));
});

test('an encrypted entry renews its licence, plays with the local licence URL, and is refused once expired', async () => {
  const { om, container } = make();
  const w = await worker(container);
  const future = Date.now() + 3600e3;
  completedEntry(w, 'drm', { expiration: future, protected: true, renewTo: future + 1000 });
  const dash = w.entries.get('drm').config.sources.dash[0];
  dash.drmData = [
    { scheme: 'drm.clearkey', licenseUrl: 'https://lic.example/ck' },
    { scheme: 'com.widevine.alpha', licenseUrl: 'https://lic.example/wv' },
  ];
  assert.equal(await om.getExpiration('drm'), future);
  assert.equal(await om.renewLicense('drm'), future + 1000);
  assert.deepEqual(
    sent(w, 'renew').map((r) => r.entryId),
    ['drm'],
  );
  const played = await om.getDownloadedMediaConfig('drm');
  // ClearKey is answered by the worker at localLicenseUrl (for the player's drm config); the
  // Kaltura Player refuses a ClearKey drmData (7007), so only the other systems stay.
  assert.deepEqual(played.sources.dash[0].drmData, [{ scheme: 'com.widevine.alpha', licenseUrl: 'https://lic.example/wv' }]);
  assert.equal(played.localLicenseUrl, `${SCOPE}__offline__/drm/license`);
  w.entries.get('drm').expiration = Date.now() - 1;
  await assert.rejects(om.getDownloadedMediaConfig('drm'), (e) => e.code === 9016 && /expired.*renewLicense/.test(e.data.message));
});

test('renewLicense with a provider asks it for a fresh config and hands it to the worker; a provider failure is 9016', async () => {
  const fresh = { sources: { dash: [{ url: DASH, drmData: [{ licenseUrl: 'https://lic.example/ck?token=new' }] }] } };
  const asked = [];
  globalThis.KalturaPlayer = {
    VERSION: '3.17.95',
    providers: {
      Provider: class {
        getMediaConfig(info) {
          asked.push(info);
          return Promise.resolve(fresh);
        }
      },
    },
  };
  const { om, container } = make({ provider: { partnerId: 1234 } });
  const w = await worker(container);
  completedEntry(w, 'drm', { expiration: 1e12, protected: true, renewTo: 2e12 });
  assert.equal(await om.renewLicense('drm'), 2e12);
  assert.deepEqual(
    asked.map((i) => i.entryId),
    ['drm'],
  );
  assert.deepEqual(sent(w, 'renew')[0].config, fresh);
  globalThis.KalturaPlayer.providers.Provider = class {
    getMediaConfig() {
      return Promise.reject(new Error('offline'));
    }
  };
  await assert.rejects(om.renewLicense('drm'), (e) => e.code === 9016 && /fresh media config/.test(e.data.message));
  assert.equal(sent(w, 'renew').length, 1, 'the worker was not asked without a fresh config');
});

test('Widevine-only content is refused with 9009 before the worker is asked to download', async () => {
  const { om, container } = make();
  const w = await worker(container);
  w.entries.set('wv', {
    id: 'wv',
    state: 'prepared',
    config: { sources: { dash: [{ url: DASH, drmData: [{ scheme: 'com.widevine.alpha', licenseUrl: 'https://lic/wv' }] }] } },
  });
  await assert.rejects(om.download('wv'), (e) => e.code === 9009 && /com\.widevine\.alpha.*cannot keep their licences offline/.test(e.data.message));
  assert.deepEqual(sent(w, 'download'), []);
});

test('worker broadcasts reach listeners as {type, payload: {detail}}; junk is ignored', async () => {
  const { om, container, events } = make();
  const w = await worker(container);
  const progress = { entryId: 'a', progress: 50, bytesDownloaded: 10, totalBytes: 20, segmentsDone: 1, segmentsTotal: 2 };
  w.broadcast('progress', progress);
  w.broadcast('statechange', { entryId: 'a', state: 'completed', stopReason: null });
  w.broadcast('error', { severity: 2, category: 9, code: 9011, data: { message: 'disk full', entryId: 'a' } });
  w.broadcast('bogus', {});
  container.dispatchEvent(new MessageEvent('message', { data: 'hello' }));
  assert.deepEqual(
    events.map((e) => e.type),
    ['progress', 'statechange', 'error'],
  );
  assert.deepEqual(events[0], { type: 'progress', payload: { detail: progress } });
  assert.equal(events[0].payload.detail.progress, 50);
  const off = (e) => events.push(e);
  om.addEventListener('progress', off);
  om.removeEventListener('progress', off);
  w.broadcast('progress', progress);
  assert.equal(events.length, 4);
});

test('keep-alive: pings while a download runs, stops when the worker reports no active job', async () => {
  const { om, container } = make({ keepAliveMs: 15 });
  const w = await worker(container);
  w.entries.set('a', { id: 'a', state: 'prepared', config: { sources: { dash: [{ url: DASH }] } } });
  await om.download('a');
  await new Promise((r) => setTimeout(r, 60));
  const pings = sent(w, 'ping').length;
  assert.ok(pings >= 2, `pinged ${pings} times`);
  w.activeJobs = 0;
  await new Promise((r) => setTimeout(r, 60));
  const after = sent(w, 'ping').length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(sent(w, 'ping').length, after, 'stopped');
  w.activeJobs = 1;
  w.broadcast('progress', { entryId: 'a', progress: 1, bytesDownloaded: 1, totalBytes: 2, segmentsDone: 0, segmentsTotal: 2 });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(sent(w, 'ping').length > after, 'a progress event restarts it');
  om.destroy();
});

test('a worker that does not answer gives 9002 after requestTimeoutMs', async () => {
  const { om, container } = make({ requestTimeoutMs: 40 });
  const w = await worker(container);
  w.silent.add('listing');
  await assert.rejects(om.getAllDownloads(), (e) => e.code === 9002 && /within 40 ms; reload the page/.test(e.data.message));
});

test('without service workers every call rejects 9000', async () => {
  const om = new OfflineManager({ serviceWorkerUrl: SW });
  managers.push(om);
  await assert.rejects(om.getAllDownloads(), (e) => e.code === 9000 && /HTTPS/.test(e.data.message));
});

test('a failing register() rejects 9000 and the next call tries again', async () => {
  const container = new FakeContainer();
  let fail = true;
  const register = container.register.bind(container);
  container.register = async (...args) => {
    if (fail) throw new TypeError('bad MIME type');
    return register(...args);
  };
  const { om } = make({ serviceWorkerContainer: container });
  await assert.rejects(om.getAllDownloads(), (e) => e.code === 9000 && /bad MIME type/.test(e.data.message) && /serviceWorkerUrl/.test(e.data.message));
  fail = false;
  assert.deepEqual(await om.getAllDownloads(), []);
});

test('an uncontrolled page can manage downloads but not play: 9002 after the claim grace', async () => {
  const { om, container } = make({}, { claim: false });
  const w = await worker(container);
  completedEntry(w, 'a');
  assert.equal((await om.getAllDownloads()).length, 1, 'messages go to registration.active');
  await assert.rejects(om.getDownloadedMediaConfig('a'), (e) => e.code === 9002 && /hard reload/.test(e.data.message));
});

test('after destroy calls reject 9002 and no events are delivered', async () => {
  const { om, container, events } = make();
  const w = await worker(container);
  om.destroy();
  await assert.rejects(om.getAllDownloads(), (e) => e.code === 9002 && /destroyed/.test(e.data.message));
  w.broadcast('progress', { entryId: 'a', progress: 1 });
  assert.equal(events.length, 0);
});

test('a background download is handed to the browser Background Fetch from the page, and a refusal is reported to the worker', async () => {
  const { om, container } = make({ background: true });
  const w = await worker(container);
  const reg = container.registrations.get(SCOPE);
  reg.backgroundFetch = new FakeBackgroundFetch();
  w.entries.set('bg', { id: 'bg', state: 'prepared', config: { sources: { dash: [{ url: DASH }] } } });
  const started = await om.download('bg');
  assert.equal(sent(w, 'download')[0].options.background, true, 'the constructor default applies');
  assert.deepEqual(
    reg.backgroundFetch.fetches.map((f) => [f.id, f.urls, f.options.title]),
    [
      ['offline-manager:bg:0', ['https://cdn.example/0.m4s'], 'bg'],
      ['offline-manager:bg:1', ['https://cdn.example/1.m4s'], 'bg'],
    ],
  );
  assert.deepEqual(sent(w, 'backgroundStarted')[0].started, ['offline-manager:bg:0', 'offline-manager:bg:1']);
  assert.equal(started.mode, 'background');

  reg.backgroundFetch = new FakeBackgroundFetch(new DOMException('Quota exceeded.', 'QuotaExceededError'));
  w.entries.set('bg2', { id: 'bg2', state: 'prepared', config: { sources: { dash: [{ url: DASH }] } } });
  const refused = await om.download('bg2', { background: true });
  const report = sent(w, 'backgroundStarted')[1];
  assert.deepEqual(report.started, []);
  assert.equal(report.refused, 'QuotaExceededError: Quota exceeded.');
  assert.equal(refused.mode, 'foreground');
  assert.match(refused.modeReason, /QuotaExceededError/);

  w.entries.set('fg', { id: 'fg', state: 'prepared', config: { sources: { dash: [{ url: DASH }] } } });
  await om.download('fg', { background: false });
  assert.equal(sent(w, 'backgroundPlan').length, 2, 'a foreground download hands nothing over');
});
