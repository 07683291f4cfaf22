// Background mode in every engine: a download asked for with `background: true` runs in the
// browser's Background Fetch where the engine has it (Chromium), and in the worker's own engine
// where it does not (Firefox, WebKit), saying so in the entry's `mode` and `modeReason`. Either
// way it completes with the origin's bytes and plays offline.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {startWorld} from './world.mjs';
import {CONTENT_DIR} from '../e2e/harness.mjs';
import {checkStored, startDownload, summaryOf} from '../e2e/engine-helpers.mjs';

const world = await startWorld();
const {proxy, withPage, waitEnd, playOffline} = world;

const T = {timeout: 180_000};

test('a background download runs in Background Fetch where the engine has it, else in the foreground saying why, and plays offline', T, async () => {
  await withPage(async (page) => {
    const id = 'bg-mode';
    const has = await page.evaluate(async () => 'backgroundFetch' in (await navigator.serviceWorker.ready));
    const started = await startDownload(page, id, `${proxy.url}/content/template/manifest.mpd`, {bitrate: 400000, background: true});
    assert.equal(started.state, 'downloading');
    if (has) {
      assert.equal(started.mode, 'background', JSON.stringify(started));
      assert.equal(started.modeReason, undefined);
    } else {
      assert.equal(started.mode, 'foreground', JSON.stringify(started));
      assert.match(started.modeReason, /no Background Fetch/);
    }
    const end = await waitEnd(page, id);
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const summary = await summaryOf(page, id);
    assert.equal(summary.mode, has ? 'background' : 'foreground');
    const progress = await page.evaluate((id) => window.eventsOf(id, 'progress'), id);
    assert.ok(progress.length >= 1 && progress.at(-1).detail.progress === 100, `progress events: ${JSON.stringify(progress.at(-1))}`);
    await checkStored(page, id, CONTENT_DIR);
    await playOffline(page, id);
  });
});
