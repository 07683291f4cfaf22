// Streams as real packagers write them, stored and played offline in each engine that plays them
// online (what an engine cannot decode is a skipped test saying so): WebM SegmentBase indexed by
// Cues (VP9 + Opus) with a duration written with year, month and day parts; DASH segment
// encryption (AES-128-CBC); an enhancement layer the browser cannot decode beside its base;
// ClearKey content whose manifest names only the key id, played with no DRM configuration; a
// Period given by xlink; and an init segment shared by two Periods.
//
// Content: tests/content/make-webm.sh (run by set-up) and the variants of the ffmpeg streams
// (tests/content/variants.mjs: AES-128, lvc1, key-id only, xlink, two Periods).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {startWorld} from './world.mjs';
import {CONTENT_DIR, ROOT, prepareEncryptedContent} from '../e2e/harness.mjs';
import {checkStored, sha256, startDownload} from '../e2e/engine-helpers.mjs';
import {startClearKeyServer} from '../server/clearkey-server.mjs';
import {KEYS} from '../content/encrypted-keys.mjs';
import {writeVariants} from '../content/variants.mjs';

execFileSync('bash', [path.join(ROOT, 'tests/content/make-webm.sh')], {stdio: 'ignore', env: {...process.env, CONTENT_DIR}});
prepareEncryptedContent();
writeVariants(CONTENT_DIR);
const {engine, proxy, features, withPage, playOffline, waitEnd} = await startWorld();
const T = {timeout: 180_000};

test('a WebM SegmentBase stream indexed by Cues, with a P0Y0M0DT… duration, is stored cluster by cluster and plays offline', {
  ...T,
  skip: !features.webm && "this engine's MSE plays neither VP9 nor Opus in WebM",
}, async () => {
  await withPage(async (page) => {
    await startDownload(page, 'webm', `${proxy.url}/content/webm/manifest.mpd`, {});
    const end = await waitEnd(page, 'webm');
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const {entry, stored} = await checkStored(page, 'webm', CONTENT_DIR);
    const video = entry.plan.tracks.find((t) => t.segments.some((s) => /video\.webm$/.test(s.url)));
    assert.ok(video, 'the VP9 track is planned');
    assert.equal(video.segments.length, 4, 'one segment per 2 s cluster of the 8 s video');
    for (const [i, s] of video.segments.entries()) if (i) assert.equal(s.range[0], video.segments[i - 1].range[1] + 1, 'clusters follow one another');
    assert.ok(stored.length >= 1 + 4 + 1 + 4, `${stored.length} segments stored`);
    await playOffline(page, 'webm', {seconds: 3});
  });
});

test('an AES-128 (DASH segment encryption) stream is stored decrypted, its key fetched once per track, and plays offline', T, async () => {
  await withPage(async (page) => {
    await startDownload(page, 'aes', `${proxy.url}/content/aes128/manifest.mpd`);
    const end = await waitEnd(page, 'aes');
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const {entry, items} = await page.evaluate(() => window.readStore('aes'));
    const segments = items.filter((i) => i.track !== 'poster');
    assert.ok(segments.length >= 14, `${segments.length} segments stored`);
    const planned = new Map(entry.plan.tracks.flatMap((t) => [[`${t.key}/0`, t.init.url], ...t.segments.map((s, k) => [`${t.key}/${k + 1}`, s.url])]));
    for (const item of segments) {
      const clear = fs.readFileSync(path.join(CONTENT_DIR, 'template', path.basename(new URL(planned.get(`${item.track}/${item.index}`)).pathname)));
      assert.equal(item.sha256, sha256(clear), `${item.track}/${item.index} is stored decrypted`);
    }
    const keyFetches = proxy.requests.filter((r) => r.url.endsWith('/aes128/key.bin')).length;
    assert.ok(keyFetches >= 1 && keyFetches <= entry.plan.tracks.length, `${keyFetches} key fetches for ${entry.plan.tracks.length} tracks`);
    const local = await page.evaluate(() =>
      window.om
        .getDownloadedMediaConfig('aes')
        .then((c) => fetch(c.sources.dash[0].url))
        .then((r) => r.text()),
    );
    assert.doesNotMatch(local, /<sea:|"urn:mpeg:dash:sea:2012"/, 'the local manifest names no segment encryption');
    await playOffline(page, 'aes', {seconds: 3});
  });
});

test('an enhancement layer the browser cannot decode (lvc1 over an avc1 base) is not stored by default, and the title plays offline', T, async () => {
  const playable = await withPage((page) => page.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="lvc1"')));
  assert.equal(playable, false, 'this engine would not play lvc1 (else the test proves nothing)');
  await withPage(async (page) => {
    await startDownload(page, 'lcevc', `${proxy.url}/content/template/lcevc.mpd`, {});
    const end = await waitEnd(page, 'lcevc');
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const local = await page.evaluate(() =>
      window.om
        .getDownloadedMediaConfig('lcevc')
        .then((c) => fetch(c.sources.dash[0].url))
        .then((r) => r.text()),
    );
    assert.doesNotMatch(local, /lvc1/, 'the enhancement layer is not stored');
    assert.match(local, /avc1/, 'a playable video track is');
    await playOffline(page, 'lcevc', {seconds: 3});
  });
});

test('ClearKey content whose manifest names only cenc:default_KID plays offline with no DRM configuration in the player', {
  ...T,
  skip: !features.clearKey && 'this engine has no EME ClearKey',
}, async () => {
  prepareEncryptedContent();
  const lic = await startClearKeyServer({keys: KEYS});
  try {
    await withPage(async (page) => {
      await page.evaluate((c) => window.om.getMediaConfig(c), {
        id: 'kid-only',
        sources: {
          dash: [
            {
              url: `${proxy.url}/content/encrypted/kid-only.mpd`,
              mimetype: 'application/dash+xml',
              drmData: [{scheme: 'org.w3.clearkey', licenseUrl: lic.licenseUrl}],
            },
          ],
        },
      });
      await page.evaluate(() => window.om.download('kid-only'));
      assert.equal((await waitEnd(page, 'kid-only')).state, 'completed');
      await lic.stop();
      await playOffline(page, 'kid-only', {seconds: 2});
    });
  } finally {
    await lic.stop().catch(() => {});
  }
});

test('a Period given by xlink (actuate onLoad) is fetched at download time and the title plays offline', T, async () => {
  await withPage(async (page) => {
    await startDownload(page, 'xlink', `${proxy.url}/content/template/xlink.mpd`);
    const end = await waitEnd(page, 'xlink');
    assert.equal(end.state, 'completed', JSON.stringify(end));
    assert.ok(
      proxy.requests.some((r) => r.url.endsWith('/template/xlink-period.xml')),
      'the xlink document was fetched',
    );
    await checkStored(page, 'xlink', CONTENT_DIR);
    const local = await page.evaluate(() =>
      window.om
        .getDownloadedMediaConfig('xlink')
        .then((c) => fetch(c.sources.dash[0].url))
        .then((r) => r.text()),
    );
    assert.doesNotMatch(local, /xlink:href/, 'the local manifest has the Period itself');
    await playOffline(page, 'xlink', {seconds: 3});
  });
});

// Played offline only where the engine plays a stream across a DASH Period boundary at all
// (engine.can.multiPeriod): this WebKitGTK does not, online either (see webkit.mjs).
test('an init segment shared by the Periods of a title is stored once and the title plays offline across the Periods', T, async (t) => {
  await withPage(async (page) => {
    await startDownload(page, 'shared-init', `${proxy.url}/content/template/two-periods.mpd`);
    const end = await waitEnd(page, 'shared-init');
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const {entry, stored} = await checkStored(page, 'shared-init', CONTENT_DIR);
    const tracks = entry.plan.tracks;
    assert.equal(tracks.length, 4, 'video and audio in each of the two Periods');
    const inits = stored.filter((s) => s.index === 0);
    assert.equal(inits.length, 2, `one stored init per distinct file, not per Period: ${inits.map((s) => s.track)}`);
    assert.equal(tracks.filter((t) => t.initFrom).length, 2, "the second Period refers to the first one's inits");
    if (!engine.can.multiPeriod) {
      t.skip(`stored once (checked); not played: ${engine.why.multiPeriod}`);
      return;
    }
    await playOffline(page, 'shared-init', {seconds: 7});
  });
});
