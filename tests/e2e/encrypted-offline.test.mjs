// Protected content OFFLINE: the CENC/ClearKey stream is downloaded with its licence, then with
// the licence server and the media server stopped and the browser offline, the worker answers
// the player's licence request and segments from IndexedDB, and playback advances in shaka-player
// and in the Kaltura Player. Also: an expired licence is refused (9016) and renewal fixes it
// without touching segments; a licence server failure on renewal is 9016; removal deletes the
// licences; Widevine-only content is refused with 9009 before any segment is fetched.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {ROOT, CONTENT_DIR, launch} from './harness.mjs';
import {startAppServer} from '../server/app-server.mjs';
import {startMediaServer} from '../server/fixture-server.mjs';
import {startClearKeyServer} from '../server/clearkey-server.mjs';
import {kid, KEYS} from '../content/encrypted-keys.mjs';

const TIMEOUT = {timeout: 240_000};
const HOUR = 3_600_000;

let app;
let media;
let lic;
let browser;

before(async () => {
  execFileSync('bash', [path.join(ROOT, 'tests/vendor.sh')], {stdio: 'ignore'});
  execFileSync('bash', [path.join(ROOT, 'tests/content/make-encrypted.sh')], {stdio: 'ignore', env: {...process.env, CONTENT_DIR}});
  app = await startAppServer({root: ROOT});
  media = await startMediaServer({contentDir: CONTENT_DIR});
  browser = await launch();
}, TIMEOUT);
after(async () => { await browser?.close(); await media?.stop(); await app?.stop(); await lic?.stop(); });

/** A plain media config for the encrypted stream with its ClearKey licence URL. */
function encryptedConfig(id, scheme = 'org.w3.clearkey') {
  return {id, sources: {dash: [{id: `${id}_dash`, url: `${media.url}/content/encrypted/manifest.mpd`,
    mimetype: 'application/dash+xml', drmData: [{scheme, licenseUrl: lic.licenseUrl}]}]},
  duration: 12, metadata: {name: 'Encrypted sample'}};
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
    const shaka = await page.evaluate((a) => window.playShaka(a),
      {manifestUrl: config.sources.dash[0].url, drm, seconds: 2, timeoutMs: 60_000});
    assert.deepEqual(shaka.errors, []);
    assert.equal(shaka.keySystem, 'org.w3.clearkey');
    assert.ok(shaka.currentTime > 2, `shaka reached ${shaka.currentTime}`);

    const played = await kaltura.evaluate((a) => window.playKaltura(a),
      {mediaConfig: config, playback: {options: {html5: {dash: {drm}}}}, seconds: 2, timeoutMs: 60_000});
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
    const endpoint = await page.evaluate(async (kids) => {
      const r = await fetch(`${location.origin}/__offline__/enc2/license`, {method: 'POST', body: JSON.stringify({kids, type: 'temporary'})});
      return {status: r.status, body: await r.json()};
    }, [kid.base64url]);
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
    const shaka = await page.evaluate((a) => window.playShaka(a), {manifestUrl: config.sources.dash[0].url,
      drm: {servers: {'org.w3.clearkey': config.localLicenseUrl}}, seconds: 2, timeoutMs: 60_000});
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
    assert.match(refused.rejected.message, /com\.widevine\.alpha: this browser cannot keep its licences offline/);
    assert.deepEqual(media.requests.filter((r) => r.url.includes('/content/')), [], 'nothing was fetched');
  } finally {
    await context.close();
  }
});
