// Playing a title while it downloads, in every engine: with the media server slowed so that the
// download takes about 30 s, a player started at 10 % plays past 20 s, the worker answering what
// is stored from IndexedDB and the rest from the network; afterwards every segment was fetched
// once and stored once. Offline, a half-downloaded title plays to the end of what is stored and
// then fails with an error, not a hang, and its stored-only manifest plays to its end with no
// error; a seek ahead of the download plays.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {SEGMENTS, startWorld} from './world.mjs';
import {CONTENT_DIR} from '../e2e/harness.mjs';
import {checkStored, startDownload} from '../e2e/engine-helpers.mjs';

const world = await startWorld();
const {proxy, withPage, waitEnd, goOffline, goOnline} = world;

const T = {timeout: 240_000};
/** 60 s of 1 s segments, video and audio: 122 items. */
const MANY = `${proxy.url}/content/many/manifest.mpd`;
/** Each segment answered after this long: about 30 s for the download at its 4 requests at a time. */
const SLOW_MS = 1000;

const play = (page, player, url, seconds, options = {}) =>
  page.evaluate(({player, url, seconds, options}) => window.playFor(player, url, seconds, options), {player, url, seconds, options});

/** Segment requests that reached the media server more than once (same URL and range). */
function fetchedTwice() {
  const seen = new Map();
  for (const r of proxy.requests.filter((r) => SEGMENTS.test(r.url) && r.method === 'GET')) {
    const key = `${r.url} ${r.range ?? ''}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1);
}

/** Starts the download of `id` and waits for `percent`; gives the local config then. */
async function startAndWait(page, id, percent) {
  proxy.resetLog();
  await startDownload(page, id, MANY);
  await page.evaluate(({id, percent}) => window.waitProgress(id, percent, 60_000), {id, percent});
  return page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id);
}

for (const player of ['shaka', 'dashjs']) {
  test(`${player}: a title plays from 10 % of its download past 20 s, and every segment is fetched and stored once`, T, async () => {
    await withPage(
      async (page) => {
        const id = `pwd-${player}`;
        const config = await startAndWait(page, id, 10);
        assert.equal(config.state, 'downloading');
        assert.ok(config.progress >= 10 && config.progress < 100, `progress ${config.progress}`);
        const played = await play(page, player, config.sources.dash[0].url, 20, {limitMs: 60_000});
        assert.deepEqual(played.errors, [], `${player}: no error`);
        assert.equal(played.videoError, null);
        assert.ok(played.currentTime > 20, `${player}: currentTime reached ${played.currentTime}`);
        const end = await waitEnd(page, id);
        assert.equal(end.state, 'completed', JSON.stringify(end));
        assert.deepEqual(fetchedTwice(), [], 'no segment reached the media server twice');
        await checkStored(page, id, CONTENT_DIR);
      },
      {delayMs: SLOW_MS},
    );
  });
}

test('offline, a half-downloaded title plays to the end of what is stored, then fails with an error, not a hang', T, async () => {
  await withPage(
    async (page) => {
      const id = 'pwd-offline';
      await startAndWait(page, id, 40);
      await page.evaluate((id) => window.om.pause(id), id);
      const config = await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id);
      assert.equal(config.state, 'paused');
      const storedSeconds = (60 * config.progress) / 100;
      await goOffline(page);
      try {
        for (const player of ['shaka', 'dashjs']) {
          const started = Date.now();
          const played = await play(page, player, config.sources.dash[0].url, 59, {limitMs: 90_000, keepPlaying: true});
          const took = Date.now() - started;
          assert.ok(played.errors.length > 0 || played.videoError, `${player}: the player reported the missing segments (${played.currentTime} s)`);
          assert.ok(
            played.currentTime > storedSeconds - 5 && played.currentTime < 59,
            `${player}: played to the end of what is stored (${played.currentTime} s of about ${storedSeconds} s stored)`,
          );
          assert.ok(took < 90_000, `${player}: it stopped in ${took} ms, not a hang`);
        }
      } finally {
        await goOnline(page);
      }
    },
    {delayMs: 200},
  );
});

test('offline, the stored-only manifest of a half-downloaded title plays it to its end with no error', T, async () => {
  await withPage(
    async (page) => {
      const id = 'pwd-stored-only';
      await startAndWait(page, id, 40);
      await page.evaluate((id) => window.om.pause(id), id);
      const config = await page.evaluate((id) => window.om.getDownloadedMediaConfig(id, {storedOnly: true}), id);
      assert.match(config.sources.dash[0].url, /manifest\.mpd\?stored-only$/);
      const storedSeconds = (60 * config.progress) / 100;
      await goOffline(page);
      try {
        const {listed, fromCache} = await page.evaluate(async (url) => {
          const response = await fetch(url);
          const text = await response.text();
          return {
            listed: Number(/mediaPresentationDuration="PT([0-9.]+)S"/.exec(text)?.[1]),
            fromCache: response.headers.get('X-Shaka-From-Cache'),
          };
        }, config.sources.dash[0].url);
        assert.equal(fromCache, 'true', 'worker responses carry X-Shaka-From-Cache');
        assert.ok(listed > 5 && listed < 60, `the manifest lists ${listed} s of ${storedSeconds} s stored`);
        for (const player of ['shaka', 'dashjs']) {
          const played = await page.evaluate(({player, url}) => window.playFor(player, url, 59, {limitMs: 90_000, keepPlaying: true}), {
            player,
            url: config.sources.dash[0].url,
          });
          assert.deepEqual(played.errors, [], `${player}: no error`);
          assert.equal(played.videoError, null);
          assert.ok(played.currentTime > listed - 2, `${player}: played to ${played.currentTime} s of the ${listed} s listed`);
        }
      } finally {
        await goOnline(page);
      }
    },
    {delayMs: 200},
  );
});

test('a seek ahead of the download plays', T, async () => {
  await withPage(
    async (page) => {
      const id = 'pwd-seek';
      const config = await startAndWait(page, id, 10);
      assert.equal(config.state, 'downloading');
      const played = await play(page, 'shaka', config.sources.dash[0].url, 48, {seekTo: 45, limitMs: 40_000});
      assert.deepEqual(played.errors, []);
      assert.ok(played.currentTime > 48, `currentTime reached ${played.currentTime}`);
      assert.equal((await waitEnd(page, id)).state, 'completed');
      assert.deepEqual(fetchedTwice(), [], 'no segment reached the media server twice');
    },
    {delayMs: SLOW_MS},
  );
});
