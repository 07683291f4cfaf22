// What the browser benchmarks share: Chromium with a profile on disk, benchmark origins
// (bench-server.mjs, one instance per origin), storing an entry through window.OfflineManager,
// row building and statistics.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';
import {ROOT, CONTENT_DIR, CHROMIUM_OPTIONS} from '../e2e/harness.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startBenchServer} from './bench-server.mjs';

export {ROOT, CONTENT_DIR};

/**
 * The download job's defaults, {concurrency, batch}, as the worker has them: its generated
 * constants (sw/js/generated/constants.js, from crates/engine/src/job.rs), so the benchmarks'
 * peers mirror the job without retyping it.
 */
export const JOB_DEFAULTS = (() => {
  const text = fs.readFileSync(path.join(ROOT, 'sw/js/generated/constants.js'), 'utf8');
  const found = /^const OM_JOB_DEFAULTS = (\{.*\});$/m.exec(text);
  if (!found) throw new Error('sw/js/generated/constants.js has no OM_JOB_DEFAULTS: run the generator');
  return JSON.parse(found[1]);
})();

/**
 * Starts the loopback media server, `origins` bench origins and Chromium with a fresh profile on
 * disk (Playwright's default contexts keep IndexedDB in memory). Returns
 * {media, origins: [{url, port, stop}], context, close()}.
 */
export async function startEnv({origins = 1} = {}) {
  const cleanups = [];
  const close = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => {});
  };
  try {
    const media = await startMediaServer({contentDir: CONTENT_DIR});
    cleanups.push(() => media.stop());
    const servers = [];
    for (let i = 0; i < origins; i++) {
      const s = await startBenchServer({root: ROOT});
      cleanups.push(() => s.stop());
      servers.push(s);
    }
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'om-bench-'));
    cleanups.push(() => fs.promises.rm(dir, {recursive: true, force: true}));
    const context = await chromium.launchPersistentContext(dir, CHROMIUM_OPTIONS);
    cleanups.push(() => context.close());
    return {media, origins: servers, context, close};
  } catch (e) {
    await close();
    throw e;
  }
}

/** Opens `url` in a new tab of the context; page errors are echoed when BENCH_VERBOSE is set. */
export async function openPage(context, url) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${url}: ${e}`));
  if (process.env.BENCH_VERBOSE) page.on('console', (m) => console.error(`[page] ${m.type()} ${m.text()}`));
  await page.goto(url);
  return page;
}

/** The template stream of tests/.content, on the media server. */
export function templateMpd(media) {
  return `${media.url}/content/template/manifest.mpd`;
}

/**
 * On a page of our origin (tests/bench/pages/ours.html): stores the plain-config entry `entryId`
 * (the MPD at `mpdUrl`, download `options`) through window.OfflineManager, and returns its
 * stored segments [{local, url, size, type, track, index}] (read from IndexedDB).
 */
export async function storeEntry(page, {entryId, mpdUrl, options}) {
  await page.evaluate(({entryId, mpdUrl, options}) => window.bench.download(entryId, mpdUrl, options), {entryId, mpdUrl, options});
  const segments = await page.evaluate((entryId) => window.bench.storedSegments(entryId), entryId);
  if (segments.length === 0) throw new Error(`entry ${entryId} has no stored segments`);
  return segments;
}

/**
 * Returns stop(): CDP ServiceWorker.stopAllWorkers on a session of `page` (every worker of the
 * browser stops; the next event starts one cold), resolved once CDP reports every worker version
 * stopped (a worker woken meanwhile, e.g. by a keep-alive ping, would make a warm start look cold).
 */
export async function workerStopper(context, page) {
  const cdp = await context.newCDPSession(page);
  const status = new Map(); // versionId -> runningStatus
  cdp.on('ServiceWorker.workerVersionUpdated', ({versions}) => {
    for (const v of versions) status.set(v.versionId, v.runningStatus);
  });
  await cdp.send('ServiceWorker.enable');
  return async () => {
    // A worker that an event woke again while it stopped (a page's ping) is asked again, each
    // second, for up to ten.
    const deadline = Date.now() + 10000;
    let asked = 0;
    while (asked === 0 || [...status.values()].some((s) => s !== 'stopped')) {
      if (Date.now() > deadline) throw new Error(`workers still running: ${JSON.stringify([...status])}`);
      if (Date.now() >= asked + 1000) {
        await cdp.send('ServiceWorker.stopAllWorkers');
        asked = Date.now();
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
}

export function median(xs) {
  return percentile(xs, 50);
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** A scoreboard row; ratio = ours / peer when both are numbers. */
export function row(name, unit, ours, peerName, peer, goal = null, met = null) {
  const ratio = typeof ours === 'number' && typeof peer === 'number' && peer !== 0 ? ours / peer : null;
  return {name, unit, ours, peer_name: peerName, peer, ratio, goal, met};
}

/** A row that could not be measured, with the reason. */
export function notMeasured(name, unit, reason, goal = null) {
  return {...row(name, unit, null, null, null, goal, null), error: String(reason)};
}
