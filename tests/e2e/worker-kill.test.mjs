// A download survives the browser stopping its service worker again and again: Chromium stops
// workers (idle 30 s, any event after 5 min) and a stop aborts the worker's fetches and
// in-flight IndexedDB transactions. Here the worker is stopped with CDP
// `ServiceWorker.stopAllWorkers` every 1-4 s (random) during a download that the proxy slows to
// last about a minute; the page only keeps its OfflineManager alive (its keep-alive pings wake
// the worker, which resumes unfinished jobs on any event). At the end the entry must be
// completed with every planned segment stored exactly once, byte for byte the origin's.
//
// Content: tests/.content/many (tests/content/make-engine-content.sh, made here when missing).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, CONTENT_DIR} from './harness.mjs';
import {openEnginePage, startDownload, summaryOf, checkStored, sourceOf, sleep, startProxiedServers} from './engine-helpers.mjs';

const MIN_KILLS = 10;
const SEGMENT_DELAY_MS = 1000; // ~120 segments, 4 at a time: ~30 s without kills, ~55 s with them
const DEADLINE_MS = 240_000;

let world;
let servers;
let browser;
let proxy;
before(async () => {
  if (!fs.existsSync(path.join(CONTENT_DIR, 'many', '.complete'))) {
    execFileSync('bash', [path.join(ROOT, 'tests/content/make-engine-content.sh')], {stdio: 'inherit', env: {...process.env, CONTENT_DIR}});
  }
  world = await startProxiedServers();
  ({servers, browser, proxy} = world);
});
after(() => world?.stop());

test('a download stopped by at least 10 worker kills completes with every segment once and right', {timeout: DEADLINE_MS + 60_000}, async () => {
  proxy.addRule({match: /\/content\/many\/.*\.m4s$/, action: 'delay', delayMs: SEGMENT_DELAY_MS});
  // Pings every second (default 10 s): each kill is followed soon by an event that wakes the worker.
  const {context, page} = await openEnginePage(browser, servers.app, {keepAliveMs: 1000});
  try {
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    const started = await startDownload(page, 'killed', `${proxy.url}/content/many/manifest.mpd`);
    assert.equal(started.state, 'downloading');

    const completed = () =>
      page.evaluate(() =>
        window.events.some((e) => e.type === 'statechange' && e.detail.entryId === 'killed' && ['completed', 'failed'].includes(e.detail.state)),
      );
    const t0 = Date.now();
    let kills = 0;
    const killTimes = [];
    while (!(await completed())) {
      assert.ok(Date.now() - t0 < DEADLINE_MS, `no end state after ${DEADLINE_MS / 1000} s and ${kills} kills`);
      await sleep(1000 + Math.random() * 3000);
      if (await completed()) break;
      await cdp.send('ServiceWorker.stopAllWorkers');
      kills += 1;
      killTimes.push(((Date.now() - t0) / 1000).toFixed(1));
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`worker-kill: ${kills} kills in ${seconds} s (at ${killTimes.join(', ')} s); ${proxy.requestsTo('/content/many/').length} requests`);

    const end = await page.evaluate(() => window.waitState('killed', ['completed', 'failed'], 1000));
    assert.equal(
      end.state,
      'completed',
      `ended ${JSON.stringify(end)}; errors ${JSON.stringify(await page.evaluate(() => window.eventsOf('killed', 'error')))}`,
    );
    assert.ok(kills >= MIN_KILLS, `only ${kills} kills before the download ended: slow it down`);

    const summary = await summaryOf(page, 'killed');
    assert.equal(summary.state, 'completed');
    assert.equal(summary.progress, 100);
    const last = await page.evaluate(() => window.eventsOf('killed', 'progress').at(-1).detail);
    assert.equal(last.segmentsDone, last.segmentsTotal, JSON.stringify(last));
    const {planned, stored, storedBytes} = await checkStored(page, 'killed', CONTENT_DIR);
    // Distinct (track, index) stored == what the worker reports == what the plan lists.
    const distinct = new Set(stored.map((s) => `${s.track}/${s.index}`));
    assert.equal(distinct.size, stored.length, 'no (track, index) stored twice');
    assert.equal(distinct.size, last.segmentsTotal, 'as many segments stored as the worker reports');
    assert.equal(distinct.size, planned.length, 'as many segments stored as planned');
    const sources = (items) => items.map((i) => JSON.stringify([i.url, i.range])).sort();
    assert.deepEqual(sources(stored.map(sourceOf)), sources(planned), 'the stored (url, range) are exactly the planned ones');
    assert.equal(summary.size, storedBytes, 'getAllDownloads size is what is stored');
  } finally {
    await context.close();
  }
});
