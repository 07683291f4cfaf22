// Background mode in Chromium, the engine with Background Fetch: a download handed to the
// browser finishes with every page of the app closed and plays offline afterwards; a worker
// stopped again and again while it stores what the browser delivered loses nothing; a removal
// mid-way aborts the browser's fetch and leaves no record.
//
// The browser runs with a profile on disk (a persistent context), so that closing every page
// leaves the browser, its service worker and its Background Fetch running, as a user's browser
// does. The media server is slowed (each segment answered after SLOW_MS) so the download takes
// long enough to close the page in the middle of it.
//
// Content: tests/.content/many (tests/content/make-engine-content.sh, made here when missing).

import {test, before, after, afterEach} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';
import {CHROMIUM_OPTIONS, CONTENT_DIR, ROOT, startServers} from './harness.mjs';
import {checkStored, sleep, startDownload, summaryOf} from './engine-helpers.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';

const SEGMENT = /\/content\/many\/.*\.m4s$/;
const SLOW_MS = 150;
const T = {timeout: 240_000};

let servers;
let proxy;
let profile;
let context;
before(async () => {
  if (!fs.existsSync(path.join(CONTENT_DIR, 'many', '.complete'))) {
    execFileSync('bash', [path.join(ROOT, 'tests/content/make-engine-content.sh')], {stdio: 'inherit', env: {...process.env, CONTENT_DIR}});
  }
  servers = await startServers();
  proxy = await startFaultProxy({target: () => servers.media.url});
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'om-bgfetch-'));
  context = await chromium.launchPersistentContext(profile, CHROMIUM_OPTIONS);
  // The blank page a persistent context opens with is not the app's, but it is a page.
  for (const p of context.pages()) await p.close();
});
after(async () => {
  await context?.close();
  await proxy?.stop();
  await servers?.stop();
  if (profile) fs.rmSync(profile, {recursive: true, force: true});
});

const many = () => `${proxy.url}/content/many/manifest.mpd`;

/** Removes every entry (a failed test's too), so the next test's requests are its own. */
async function cleanUp() {
  const page = await openPage();
  await page.evaluate(() => window.om.removeAll());
  await page.close();
}

afterEach(cleanUp);

/** A new page of core.html with `window.om` (keep-alive pings every second). */
async function openPage() {
  const page = await context.newPage();
  if (process.env.E2E_VERBOSE) page.on('console', (m) => console.log('[page]', m.text()));
  await page.goto(`${servers.app.url}/pages/core.html`);
  await page.evaluate(() => window.setup({keepAliveMs: 1000}));
  return page;
}

/** Distinct segment URLs the media server was asked for. */
const segmentsAsked = () => new Set(proxy.requests.filter((r) => SEGMENT.test(r.url) && r.method === 'GET').map((r) => r.url)).size;

/** Waits until the media server was asked for `n` distinct segments. */
async function waitAsked(n, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (segmentsAsked() < n) {
    assert.ok(Date.now() < deadline, `only ${segmentsAsked()} of ${n} segments were asked for`);
    await sleep(200);
  }
}

/** Background fetch ids the browser still runs, as a page sees them. */
const browserFetchIds = (page) => page.evaluate(async () => (await navigator.serviceWorker.ready).backgroundFetch.getIds());

test('a background download finishes with every page closed, and plays offline after', T, async () => {
  proxy.clearRules();
  proxy.resetLog();
  proxy.addRule({match: SEGMENT, action: 'delay', delayMs: SLOW_MS});
  const id = 'bg-closed';
  let page = await openPage();
  const started = await startDownload(page, id, many(), {bitrate: 400000, background: true});
  assert.equal(started.mode, 'background', JSON.stringify(started));
  const total = started.segmentsTotal;
  assert.deepEqual(await browserFetchIds(page), ['offline-manager:bg-closed:0']);
  // The browser's download service takes ~4 s to start its first fetch of a session; a fetch
  // whose page closed before its first request waits for the next page (measured).
  await waitAsked(1, 30_000);
  await page.close();
  const closedAt = Date.now();
  assert.equal(context.pages().length, 0, 'no page of the app is open');
  const askedAtClose = segmentsAsked();
  await waitAsked(total);
  // The browser delivers, and the worker stores, with no page open.
  await sleep(3000);
  assert.equal(context.pages().length, 0);
  const closedMs = Date.now() - closedAt;

  page = await openPage();
  const summary = await summaryOf(page, id);
  assert.equal(summary.state, 'completed', JSON.stringify(summary));
  assert.equal(summary.mode, 'background');
  const {storedBytes} = await checkStored(page, id, CONTENT_DIR);
  console.log(`# closed for ${closedMs} ms; ${total - askedAtClose} of ${total} segments were fetched after the page closed; ${storedBytes} bytes stored`);
  assert.ok(askedAtClose < total, `the download was not over when the page closed (${askedAtClose} of ${total} asked)`);

  const stored = await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id);
  await servers.media.stop();
  await context.setOffline(true);
  try {
    const played = await page.evaluate((url) => window.playFor('shaka', url, 3), stored.sources.dash[0].url);
    assert.deepEqual(played.errors, [], 'no player error offline');
    assert.ok(played.currentTime > 3, `offline playback reached ${played.currentTime}`);
  } finally {
    await context.setOffline(false);
    await servers.restartMedia();
  }
  await page.evaluate((id) => window.om.remove(id), id);
  await page.close();
});

test('a worker stopped again and again while it stores a delivery loses nothing and stores every segment once', T, async () => {
  proxy.clearRules();
  proxy.resetLog();
  const id = 'bg-killed';
  const page = await openPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  const started = await startDownload(page, id, many(), {bitrate: 400000, background: true});
  assert.equal(started.mode, 'background');
  await waitAsked(started.segmentsTotal);
  // From the moment the browser has everything: the worker is stopped every 100-300 ms for 3 s.
  const until = Date.now() + 3000;
  let kills = 0;
  while (Date.now() < until) {
    await cdp.send('ServiceWorker.stopAllWorkers');
    kills++;
    await sleep(100 + Math.random() * 200);
  }
  const end = await page.evaluate((id) => window.waitState(id, ['completed', 'failed'], 120_000), id);
  assert.equal(end.state, 'completed', JSON.stringify(end));
  await checkStored(page, id, CONTENT_DIR);
  const summary = await summaryOf(page, id);
  console.log(`# ${kills} worker stops; the entry ended in ${summary.mode} mode${summary.modeReason ? ` (${summary.modeReason})` : ''}`);
  await page.evaluate((id) => window.om.remove(id), id);
  await page.close();
});

test('removing a background download mid-way aborts the browser fetch and leaves no record', T, async () => {
  proxy.clearRules();
  proxy.resetLog();
  proxy.addRule({match: SEGMENT, action: 'delay', delayMs: 400});
  const id = 'bg-removed';
  const page = await openPage();
  const started = await startDownload(page, id, many(), {bitrate: 400000, background: true});
  assert.equal(started.mode, 'background');
  await waitAsked(5);
  await page.evaluate((id) => window.om.remove(id), id);
  assert.deepEqual(await browserFetchIds(page), [], 'the browser fetch is aborted');
  const askedAtRemoval = segmentsAsked();
  await sleep(3000);
  assert.ok(segmentsAsked() <= askedAtRemoval + 1, `the browser went on fetching: ${askedAtRemoval} then ${segmentsAsked()}`);
  const {entry, items} = await page.evaluate((id) => window.readStore(id), id);
  assert.equal(entry, undefined);
  assert.deepEqual(items, []);
  assert.equal(await summaryOf(page, id), undefined);
  await page.close();
});
