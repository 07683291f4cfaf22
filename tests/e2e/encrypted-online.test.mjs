// Protected content ONLINE: the CENC/ClearKey stream of tests/content/make-encrypted.sh plays
// from the media server with licences from the loopback ClearKey server, in shaka-player and in
// the Kaltura Player; without a licence (no server configured, or the server refusing) playback
// fails with a DRM error, so these tests can fail.
//
// Kaltura Player 3.17.95 has no ClearKey scheme: its OVP provider maps only Widevine, PlayReady
// and FairPlay scheme strings into drmData, and its DASH adapter (playkit-js-dash 1.40.0) only
// selects a source whose drmData names Widevine or PlayReady. So ClearKey reaches its shaka via
// the player config `playback.options.html5.dash.drm.servers['org.w3.clearkey']` on a source
// WITHOUT drmData; a source with a ClearKey drmData is refused with 7007 (pinned below).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {ROOT, CONTENT_DIR, launch, prepareEncryptedContent, openPage} from './harness.mjs';
import {startAppServer} from '../server/app-server.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {DEFAULT_ENTRIES} from '../server/kaltura-ovp.mjs';
import {startClearKeyServer} from '../server/clearkey-server.mjs';
import {kid, KEYS} from '../content/encrypted-keys.mjs';

const TIMEOUT = {timeout: 180_000};
const WAIT_MS = 60_000; // playback wait inside the page (busy 2-core machine)
const DRM_CATEGORY = 6; // shaka.util.Error.Category.DRM (Playkit uses the same numbers)

let app;
let media;
let lic;
let browser;
let manifestUrl;

before(async () => {
  prepareEncryptedContent();
  lic = await startClearKeyServer({keys: KEYS, durationMs: 3_600_000});
  app = await startAppServer({root: ROOT});
  // An OVP entry for the encrypted stream, passed through the emulator's `entries` option.
  media = await startMediaServer({
    contentDir: CONTENT_DIR,
    entries: {
      ...DEFAULT_ENTRIES,
      '0_encrypted': {
        name: 'Encrypted sample',
        description: 'CENC, ClearKey (ffmpeg + cenc-encrypt.mjs, 12 s)',
        duration: 12,
        manifest: 'encrypted/manifest.mpd',
        drm: [],
      },
    },
  });
  manifestUrl = `${media.url}/content/encrypted/manifest.mpd`;
  browser = await launch();
}, TIMEOUT);
after(async () => {
  await browser?.close();
  await media?.stop();
  await app?.stop();
  await lic?.stop();
});

/** Runs `fn(page)` on drm.html (?player=kaltura for the Kaltura Player) in a fresh context. */
async function onPage(player, fn) {
  lic.resetLog();
  lic.setRefusing(false);
  media.resetLog();
  const {context, page} = await openPage(browser, app, `/pages/drm.html${player === 'kaltura' ? '?player=kaltura' : ''}`);
  try {
    return await fn(page);
  } finally {
    await context.close();
  }
}

const playShaka = (page, drm) => page.evaluate((a) => window.playShaka(a), {manifestUrl, drm, seconds: 2, timeoutMs: WAIT_MS});
const playKaltura = (page, args) => page.evaluate((a) => window.playKaltura(a), {seconds: 2, timeoutMs: WAIT_MS, playback: {}, ...args});
const clearKeyDrm = () => ({servers: {'org.w3.clearkey': lic.licenseUrl}});
const kalturaPlayback = () => ({options: {html5: {dash: {drm: clearKeyDrm()}}}});

/** A plain Kaltura media config for the encrypted stream; `dash` fields are added to the source. */
function mediaConfig(dash = {}) {
  return {
    sources: {
      id: 'encrypted',
      type: 'Vod',
      duration: 12,
      poster: '',
      metadata: {name: 'Encrypted sample'},
      dash: [{id: 'encrypted_dash', url: manifestUrl, mimetype: 'application/dash+xml', ...dash}],
      hls: [],
      progressive: [],
      captions: [],
    },
    plugins: {},
  };
}

function assertGranted() {
  const granted = lic.requests.filter((r) => r.status === 200);
  assert.ok(granted.length >= 1, `licence requests: ${JSON.stringify(lic.requests)}`);
  assert.equal(granted[0].method, 'POST');
  assert.deepEqual(granted[0].kids, [kid.base64url]);
  assert.equal(granted[0].type, 'temporary');
  assert.ok(
    media.requests.some((r) => /\/content\/encrypted\/chunk-stream0-/.test(r.url)),
    'video segments came from the media server',
  );
}

test('shaka-player plays the encrypted stream online with a ClearKey licence', TIMEOUT, async () => {
  const played = await onPage('shaka', (page) => playShaka(page, clearKeyDrm()));
  assert.deepEqual(played.errors, []);
  assert.equal(played.videoError, null);
  assert.equal(played.keySystem, 'org.w3.clearkey');
  assert.ok(played.currentTime > 2, `currentTime reached ${played.currentTime}`);
  assertGranted();
});

test('shaka-player without a licence server fails with a DRM error (the stream is encrypted)', TIMEOUT, async () => {
  const played = await onPage('shaka', (page) => playShaka(page, null));
  assert.ok(
    played.errors.some((e) => e.category === DRM_CATEGORY),
    JSON.stringify(played.errors),
  );
  assert.ok(!(played.currentTime > 2), `played to ${played.currentTime} without a key`);
  assert.equal(lic.requests.length, 0);
});

test('shaka-player fails with a DRM error when the licence server refuses', TIMEOUT, async () => {
  const played = await onPage('shaka', (page) => {
    lic.setRefusing(true);
    return playShaka(page, clearKeyDrm());
  });
  // 6007 LICENSE_REQUEST_FAILED
  assert.ok(
    played.errors.some((e) => e.category === DRM_CATEGORY && e.code === 6007),
    JSON.stringify(played.errors),
  );
  assert.ok(!(played.currentTime > 2), `played to ${played.currentTime} without a licence`);
  assert.ok(lic.requests.length >= 1 && lic.requests.every((r) => r.status === 403));
});

test('shaka-player fails with a DRM error when the licence server is gone', TIMEOUT, async () => {
  const {port} = lic;
  await lic.stop();
  try {
    const played = await onPage('shaka', (page) => playShaka(page, clearKeyDrm()));
    assert.ok(
      played.errors.some((e) => e.category === DRM_CATEGORY && e.code === 6007),
      JSON.stringify(played.errors),
    );
    assert.ok(!(played.currentTime > 2), `played to ${played.currentTime} without a licence`);
  } finally {
    lic = await startClearKeyServer({keys: KEYS, durationMs: 3_600_000, port});
  }
});

test('Kaltura Player plays it online via setMedia, ClearKey set in playback.options.html5.dash.drm', TIMEOUT, async () => {
  const played = await onPage('kaltura', (page) => playKaltura(page, {mediaConfig: mediaConfig(), playback: kalturaPlayback()}));
  assert.deepEqual(played.errors, []);
  assert.ok(played.currentTime > 2, `currentTime reached ${played.currentTime}`);
  assertGranted();
});

test('Kaltura Player plays the OVP entry 0_encrypted (drm: []) via loadMedia with the same config', TIMEOUT, async () => {
  const played = await onPage('kaltura', (page) =>
    page.evaluate(
      async ({serviceUrl, playback, timeoutMs}) => {
        const player = KalturaPlayer.setup({
          targetId: 'player',
          provider: {partnerId: 1234, env: {serviceUrl}},
          playback: {autoplay: true, muted: true, ...playback},
        });
        const errors = [];
        player.addEventListener(player.Event.ERROR, (e) => errors.push(e.payload?.code));
        await player.loadMedia({entryId: '0_encrypted'}).catch((e) => errors.push(`loadMedia ${JSON.stringify(e)}`));
        const start = Date.now();
        while (!(player.currentTime > 2) && errors.length === 0 && Date.now() - start < timeoutMs) await new Promise((r) => setTimeout(r, 200));
        const result = {currentTime: player.currentTime, errors};
        player.destroy();
        return result;
      },
      {serviceUrl: `${media.url}/api_v3`, playback: kalturaPlayback(), timeoutMs: WAIT_MS},
    ),
  );
  assert.deepEqual(played.errors, []);
  assert.ok(played.currentTime > 2, `currentTime reached ${played.currentTime}`);
  assertGranted();
});

test('Kaltura Player fails with a DRM error when the licence server refuses', TIMEOUT, async () => {
  const played = await onPage('kaltura', (page) => {
    lic.setRefusing(true);
    return playKaltura(page, {mediaConfig: mediaConfig(), playback: kalturaPlayback()});
  });
  assert.ok(
    played.errors.some((e) => e.category === DRM_CATEGORY && e.code === 6007),
    JSON.stringify(played.errors),
  );
  assert.ok(!(played.currentTime > 2), `played to ${played.currentTime} without a licence`);
  assert.ok(lic.requests.length >= 1 && lic.requests.every((r) => r.status === 403));
});

test('Kaltura Player 3.17.95 refuses a source whose drmData is ClearKey (7007, no engine)', TIMEOUT, async () => {
  const played = await onPage('kaltura', (page) =>
    playKaltura(page, {
      mediaConfig: mediaConfig({drmData: [{licenseUrl: lic.licenseUrl, scheme: 'org.w3.clearkey'}]}),
      playback: kalturaPlayback(),
    }),
  );
  assert.deepEqual(
    played.errors.map((e) => e.code),
    [7007],
    JSON.stringify(played.errors),
  );
  assert.equal(lic.requests.length, 0);
});
