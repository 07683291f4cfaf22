// Protected content OFFLINE: the CENC/ClearKey stream is downloaded with its licence, then with
// the licence server and the media server stopped and the browser offline, the worker answers
// the player's licence request and segments from IndexedDB, and playback advances in shaka-player
// and in the Kaltura Player. Also: an expired licence is refused (9016) and renewal fixes it
// without touching segments; a licence server failure on renewal is 9016; removal deletes the
// licences; Widevine-only content is refused with 9009 before any segment is fetched, and is
// stored through persistent-license sessions where the CDM offers them (a stand-in CDM here).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {ROOT, CONTENT_DIR, launch, prepareEncryptedContent} from './harness.mjs';
import {startAppServer} from '../server/app-server.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startClearKeyServer} from '../server/clearkey-server.mjs';
import {kid, KEYS} from '../content/encrypted-keys.mjs';

const TIMEOUT = {timeout: 240_000};
const HOUR = 3_600_000;

let app;
let media;
let lic;
let browser;

before(async () => {
  prepareEncryptedContent();
  app = await startAppServer({root: ROOT});
  media = await startMediaServer({contentDir: CONTENT_DIR});
  browser = await launch();
}, TIMEOUT);
after(async () => {
  await browser?.close();
  await media?.stop();
  await app?.stop();
  await lic?.stop();
});

/** A plain media config for the encrypted stream with its ClearKey licence URL. */
function encryptedConfig(id, scheme = 'org.w3.clearkey') {
  return {
    id,
    sources: {
      dash: [
        {
          id: `${id}_dash`,
          url: `${media.url}/content/encrypted/manifest.mpd`,
          mimetype: 'application/dash+xml',
          drmData: [{scheme, licenseUrl: lic.licenseUrl}],
        },
      ],
    },
    duration: 12,
    metadata: {name: 'Encrypted sample'},
  };
}

async function openPage(context, player) {
  const page = await context.newPage();
  if (process.env.E2E_VERBOSE) page.on('console', (m) => console.log('[page]', m.text()));
  await page.goto(`${app.url}/pages/drm-offline.html${player === 'kaltura' ? '?player=kaltura' : ''}`);
  return page;
}

/** Takes the network away: licence and media servers stopped, the context offline. */
async function goOffline(context) {
  await lic.stop();
  await media.stop();
  await context.setOffline(true);
}

/** Starts the media server again after goOffline (the context is closed by then). */
async function restoreMedia() {
  media = await startMediaServer({contentDir: CONTENT_DIR, port: media.port});
}

test('an encrypted stream plays offline in shaka-player and the Kaltura Player with its stored ClearKey licence', TIMEOUT, async () => {
  lic = await startClearKeyServer({keys: KEYS, durationMs: HOUR});
  const context = await browser.newContext();
  try {
    const page = await openPage(context, 'shaka');
    assert.equal(await page.evaluate((c) => window.store(c), encryptedConfig('enc1')), 'completed');
    const granted = lic.requests.filter((r) => r.status === 200);
    assert.equal(granted.length, 1, 'the worker asked for the licence once, while downloading');
    assert.deepEqual(granted[0].kids, [kid.base64url]);
    const expiration = (await page.evaluate(() => window.attempt('getExpiration', 'enc1'))).resolved;
    assert.ok(expiration > Date.now() + HOUR / 2, `expiration ${expiration}`);

    // The app's own pages are the app's to cache: open the Kaltura Player page while online.
    const kaltura = await openPage(context, 'kaltura');
    await goOffline(context);
    const config = (await page.evaluate(() => window.attempt('getDownloadedMediaConfig', 'enc1'))).resolved;
    assert.match(config.localLicenseUrl, /__offline__\/enc1\/license$/);
    assert.equal(config.sources.dash[0].drmData, undefined, 'no ClearKey drmData (the Kaltura Player refuses it)');
    const drm = {servers: {'org.w3.clearkey': config.localLicenseUrl}};
    const shaka = await page.evaluate((a) => window.playShaka(a), {manifestUrl: config.sources.dash[0].url, drm, seconds: 2, timeoutMs: 60_000});
    assert.deepEqual(shaka.errors, []);
    assert.equal(shaka.keySystem, 'org.w3.clearkey');
    assert.ok(shaka.currentTime > 2, `shaka reached ${shaka.currentTime}`);

    const played = await kaltura.evaluate((a) => window.playKaltura(a), {
      mediaConfig: config,
      playback: {options: {html5: {dash: {drm}}}},
      seconds: 2,
      timeoutMs: 60_000,
    });
    assert.deepEqual(played.errors, []);
    assert.ok(played.currentTime > 2, `the Kaltura Player reached ${played.currentTime}`);
  } finally {
    await context.close();
    await restoreMedia();
  }
});

test('an expired licence is refused with 9016; renewLicense gets a new one without touching segments', TIMEOUT, async () => {
  lic = await startClearKeyServer({keys: KEYS, durationMs: 2_000});
  const context = await browser.newContext();
  try {
    const page = await openPage(context, 'shaka');
    assert.equal(await page.evaluate((c) => window.store(c), encryptedConfig('enc2')), 'completed');
    const before = (await page.evaluate(() => window.attempt('getAllDownloads'))).resolved.find((e) => e.id === 'enc2');
    await page.waitForTimeout(2_500);
    const expired = (await page.evaluate(() => window.attempt('getDownloadedMediaConfig', 'enc2'))).rejected;
    assert.equal(expired?.code, 9016);
    assert.match(expired.message, /expired.*renewLicense/);
    // An app that kept the old config: the worker's licence endpoint refuses too.
    const endpoint = await page.evaluate(
      async (kids) => {
        const r = await fetch(`${location.origin}/__offline__/enc2/license`, {method: 'POST', body: JSON.stringify({kids, type: 'temporary'})});
        return {status: r.status, body: await r.json()};
      },
      [kid.base64url],
    );
    assert.equal(endpoint.status, 403);
    assert.equal(endpoint.body.code, 9016);

    lic.setRefusing(true);
    const failed = (await page.evaluate(() => window.attempt('renewLicense', 'enc2'))).rejected;
    assert.equal(failed?.code, 9016, 'a refusing licence server fails the renewal');
    lic.setRefusing(false);
    lic.setDurationMs(HOUR);
    const renewed = (await page.evaluate(() => window.attempt('renewLicense', 'enc2'))).resolved;
    assert.ok(renewed > Date.now() + HOUR / 2, `renewed to ${renewed}`);
    const after = (await page.evaluate(() => window.attempt('getAllDownloads'))).resolved.find((e) => e.id === 'enc2');
    assert.deepEqual([after.size, after.state], [before.size, 'completed'], 'segments untouched');

    await goOffline(context);
    const config = (await page.evaluate(() => window.attempt('getDownloadedMediaConfig', 'enc2'))).resolved;
    const shaka = await page.evaluate((a) => window.playShaka(a), {
      manifestUrl: config.sources.dash[0].url,
      drm: {servers: {'org.w3.clearkey': config.localLicenseUrl}},
      seconds: 2,
      timeoutMs: 60_000,
    });
    assert.deepEqual(shaka.errors, []);
    assert.ok(shaka.currentTime > 2, `shaka reached ${shaka.currentTime} after renewal`);
  } finally {
    await context.close();
    await restoreMedia();
  }
});

test('removing an encrypted entry deletes its licences; Widevine-only content is refused with 9009', TIMEOUT, async () => {
  lic = await startClearKeyServer({keys: KEYS, durationMs: HOUR});
  const context = await browser.newContext();
  try {
    const page = await openPage(context, 'shaka');
    assert.equal(await page.evaluate((c) => window.store(c), encryptedConfig('enc3')), 'completed');
    assert.equal((await page.evaluate(() => window.storedLicences('enc3'))).length, 1);
    assert.ok((await page.evaluate(() => window.attempt('remove', 'enc3'))).resolved);
    assert.deepEqual(await page.evaluate(() => window.storedLicences('enc3')), []);

    media.resetLog();
    const wv = encryptedConfig('wv1', 'com.widevine.alpha');
    const refused = await page.evaluate(async (c) => {
      await window.om.getMediaConfig(c);
      return window.attempt('download', c.id);
    }, wv);
    assert.equal(refused.rejected?.code, 9009);
    assert.match(
      refused.rejected.message,
      /com\.widevine\.alpha and cannot be stored offline here: this browser cannot keep their licences offline \(no persistent-license session/,
    );
    assert.deepEqual(
      media.requests.filter((r) => r.url.includes('/content/')),
      [],
      'nothing was fetched',
    );
  } finally {
    await context.close();
  }
});

// ---- Widevine-style content through persistent-license sessions -------------------------------
// This Chromium has no Widevine CDM, so the page gets a stand-in for one (installed before any
// page script): `requestMediaKeySystemAccess('com.widevine.alpha')` with persistent-license
// sessions that read the key ids from the cenc init data, send a ClearKey-JSON challenge and
// keep the licence by session id, as a CDM does. Everything else is real: the worker plans the
// encrypted manifest and names its protection, the shim builds the Widevine pssh from the
// default KID, the loopback licence server answers, the worker keeps the sessions and downloads
// every segment without fetching a licence itself; renewal and removal reach the CDM.
// What this cannot show: a real Widevine CDM decrypting offline (none exists on this machine).

/** The stand-in CDM: persistent-license sessions for com.widevine.alpha, state in window.fakeCdm. */
function installFakeWidevine() {
  const real = navigator.requestMediaKeySystemAccess.bind(navigator);
  const cdm = {stored: {}, next: 0};
  window.fakeCdm = cdm;
  const b64url = (bytes) =>
    btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
  class Session extends EventTarget {
    constructor() {
      super();
      this.sessionId = '';
      this.expiration = NaN;
    }
    async generateRequest(type, initData) {
      if (type !== 'cenc') throw new TypeError(`init data type ${type}`);
      const box = new Uint8Array(initData);
      const kids = [];
      for (let i = 32; i + 18 <= box.length; i += 18) if (box[i] === 0x12 && box[i + 1] === 0x10) kids.push(b64url(box.slice(i + 2, i + 18)));
      if (kids.length === 0) throw new TypeError('no key id in the pssh');
      this.sessionId = `fake-wv-${++cdm.next}`;
      const message = new TextEncoder().encode(JSON.stringify({kids, type: 'persistent-license'})).buffer;
      setTimeout(() => this.dispatchEvent(Object.assign(new Event('message'), {messageType: 'license-request', message})));
    }
    async update(response) {
      const licence = JSON.parse(new TextDecoder().decode(response));
      if (!licence.keys?.length) throw new TypeError('no keys in the licence');
      this.expiration = licence.expiration ?? NaN;
      cdm.stored[this.sessionId] = licence.keys.map((k) => k.kid);
    }
    async load(id) {
      if (!(id in cdm.stored)) return false;
      this.sessionId = id;
      return true;
    }
    async remove() {
      delete cdm.stored[this.sessionId];
    }
    async close() {}
  }
  navigator.requestMediaKeySystemAccess = async (keySystem, configs) => {
    if (keySystem !== 'com.widevine.alpha') return real(keySystem, configs);
    if (!configs.some((c) => c.sessionTypes?.includes('persistent-license'))) return real(keySystem, configs);
    return {keySystem, getConfiguration: () => configs[0], createMediaKeys: async () => ({createSession: () => new Session()})};
  };
}

function widevineConfig(id) {
  return {...encryptedConfig(id, 'com.widevine.alpha'), metadata: {name: 'Widevine-style sample'}};
}

test(
  'with a CDM that keeps persistent licences, Widevine content is stored with a session the worker keeps; renewal and removal reach the CDM',
  TIMEOUT,
  async () => {
    await lic?.stop();
    lic = await startClearKeyServer({keys: KEYS, durationMs: HOUR});
    const context = await browser.newContext();
    await context.addInitScript(installFakeWidevine);
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/pages/drm-offline.html`);
      const before = lic.requests.length;
      assert.equal(await page.evaluate((c) => window.store(c), widevineConfig('wv1')), 'completed');
      assert.equal(lic.requests.length - before, 1, 'one licence, asked by the page for the session');
      assert.deepEqual(await page.evaluate(() => window.fakeCdm.stored), {'fake-wv-1': [kid.base64url]});
      assert.deepEqual(await page.evaluate(() => window.storedLicences('wv1')), [], 'the worker keeps no licence of its own');

      const played = (await page.evaluate(() => window.attempt('getDownloadedMediaConfig', 'wv1'))).resolved;
      assert.ok(played, 'the stored entry plays');
      const [session] = played.persistentSessions;
      assert.equal(session.sessionId, 'fake-wv-1');
      assert.equal(session.keySystem, 'com.widevine.alpha');
      const pssh = Buffer.from(session.initData, 'base64');
      assert.equal(pssh.subarray(4, 8).toString(), 'pssh');
      assert.equal(pssh.subarray(34, 50).toString('hex'), kid.hex, "the pssh names the manifest's default KID");
      assert.equal(played.localLicenseUrl, undefined);
      assert.deepEqual(played.sources.dash[0].drmData, [{scheme: 'com.widevine.alpha', licenseUrl: lic.licenseUrl}]);
      const expiration = await page.evaluate(() => window.om.getExpiration('wv1'));
      assert.ok(expiration > Date.now() + HOUR - 60_000 && expiration <= Date.now() + HOUR, `expiry ${expiration}`);

      const renewed = await page.evaluate(() => window.attempt('renewLicense', 'wv1'));
      assert.ok(renewed.resolved >= expiration, JSON.stringify(renewed));
      assert.deepEqual(Object.keys(await page.evaluate(() => window.fakeCdm.stored)), ['fake-wv-2'], 'the old session is released');

      lic.setRefusing(true);
      const refused = await page.evaluate(() => window.attempt('renewLicense', 'wv1'));
      assert.equal(refused.rejected?.code, 9016, JSON.stringify(refused));
      lic.setRefusing(false);
      assert.deepEqual(Object.keys(await page.evaluate(() => window.fakeCdm.stored)), ['fake-wv-2'], 'a failed renewal keeps the session');

      assert.ok((await page.evaluate(() => window.attempt('remove', 'wv1'))).resolved);
      assert.deepEqual(await page.evaluate(() => window.fakeCdm.stored), {}, 'removal releases the session from the CDM');
      assert.equal((await page.evaluate(() => window.attempt('getExpiration', 'wv1'))).rejected?.code, 9013);
    } finally {
      await context.close();
    }
  },
);
