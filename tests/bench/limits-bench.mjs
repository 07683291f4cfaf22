// The machine's limits benchmark: how fast this browser on this machine can fetch the bench
// stream's segments alone, and store them alone, beside our download of the same segments, all
// in the same run, in headless Chromium against the same loopback media server.
//
//   node tests/bench/limits-bench.mjs [--runs N]     (or through tests/bench/scoreboard.mjs)
//
// - Content: bench-200m.mpd (tests/bench/make-big-content.sh), the stream download-bench.mjs
//   measures throughput on: ours stores the highest video and the 3 audio languages, ~220 MB.
// - Every trial runs in a fresh browser (a new on-disk profile, deleted afterwards), on
//   tests/bench/pages/download.html of a bench origin (bench-server.mjs).
// - ours: OfflineManager download, timed from download() to the 'completed' statechange, as in
//   download-bench.mjs (pages/download.js). The segments it stored are the list the other two use.
// - fetch alone: from the same page, every one of those segments fetched (cache 'no-store', the
//   byte range when there is one, as our worker requests them) with as many requests in flight
//   as ours by default (JobConfig::default()) → Response.blob(); nothing is written anywhere.
//   The clock runs from the first request to the last blob; the blobs are dropped as they come.
// - store alone: the segments fetched once more the same way, this time keeping the Blobs
//   (timed and logged, not a row), then those Blobs put into a scratch IndexedDB database
//   (`limits-scratch`, not `offline-manager`), 4 puts (ours' batch) per readwrite transaction and one
//   transaction in flight at a time, as our job commits; the clock runs until the last one
//   completes.
// - fetch and store at once: the same, in one pipeline in the page's JS: ours' requests in flight
//   while one transaction at a time puts 4 Blobs (`limits-scratch-both`), fetching held back
//   once two batches wait, as our job schedules; the clock runs until the last commit. Both
//   halves share the machine's 2 cores here, as they do in our worker: a row for context.
// - Throughput: bytes / wall time, 1 MB = 10^6 bytes; median of `runs` (default 5) trials of each,
//   in the order ours, fetch+store, repeated.
// - fetch and store at once in a worker: the same pipeline (pages/limits-pipeline.js) in a plain
//   JS service worker (pages/limits-sw.js), the first thing in a fresh browser, as ours is: the
//   worker's context without our code (a row for context).
// - CPU: the whole machine's CPU time over each of those (proc-cpu.mjs: /proc/stat, every
//   process, the loopback servers in this process too), per MB. Fetching and storing at once
//   share the cores, so with every core busy no schedule beats cores ÷ (CPU per MB of fetch
//   alone + of store alone): a context row says how close ours comes to that ceiling.
// Rows: ours vs fetch alone, vs store alone and vs both at once (context), CPU per MB and the
// CPU ceiling (context), and ours as a share of the slower of fetch and store alone (goal ≥ 80 %).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {chromium} from 'playwright-core';
import {CHROMIUM_OPTIONS} from '../e2e/harness.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startBenchServer} from './bench-server.mjs';
import {cpuSpan} from './proc-cpu.mjs';
import {JOB_DEFAULTS} from './bench-env.mjs';
import {CONTENT_DIR, ensureContent, mbps, median} from './download-bench.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const {concurrency: CONCURRENCY, batch: BATCH} = JOB_DEFAULTS; // ours: JobConfig::default()
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Runs `fn(page)` in a fresh Chromium with a new on-disk profile, pages/download.html loaded. */
export async function freshBrowser(app, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-limits-'));
  const context = await chromium.launchPersistentContext(dir, CHROMIUM_OPTIONS);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    await page.goto(`${app.url}/bench/download.html`);
    await page.waitForFunction(() => window.benchReady === true);
    return await fn(page);
  } finally {
    await context.close();
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

/** `page.evaluate(fn, arg)` with the machine's CPU time over it as the result's `cpu` (proc-cpu.mjs). */
async function withCpu(page, fn, arg) {
  const span = cpuSpan();
  const result = await page.evaluate(fn, arg);
  return {...result, cpu: span.stop()};
}

/** Our download of `mpdUrl` (download `options`), in a fresh browser: {ms, bytes, records, cpu, ...}. */
export function oursDownload(app, mpdUrl, options = {}) {
  return freshBrowser(app, async (page) => {
    await page.evaluate((u) => window.bench.ours.prepare(u), mpdUrl);
    return withCpu(page, (o) => window.bench.ours.download(o), options);
  });
}

/** pages/limits-pipeline.js, loaded into the page. */
const PIPELINE = '/bench/limits-pipeline.js';

function fetchThenStore(app, mpdUrl, items) {
  return freshBrowser(app, async (page) => {
    await page.addScriptTag({url: PIPELINE});
    await page.evaluate((u) => fetch(u, {cache: 'no-store'}).then((r) => r.text()), mpdUrl);
    const args = {items, concurrency: CONCURRENCY, batch: BATCH};
    const fetched = await withCpu(page, (a) => self.limitsPipeline.fetchAlone(a), {...args, keep: false});
    const kept = await withCpu(page, (a) => self.limitsPipeline.fetchAlone(a), {...args, keep: true});
    const stored = await withCpu(page, (a) => self.limitsPipeline.storeAlone(a), args);
    const both = await withCpu(page, (a) => self.limitsPipeline.fetchAndStore(a), args);
    return {fetched, kept, stored, both};
  });
}

/**
 * The fetch-and-store pipeline in a plain JS service worker (pages/limits-sw.js), the first
 * thing a fresh browser does after the manifest, as ours is: the worker's context without our code.
 */
function workerFetchAndStore(app, mpdUrl, items) {
  return freshBrowser(app, async (page) => {
    await page.evaluate(async (u) => {
      const registration = await navigator.serviceWorker.register('/bench/limits-sw.js', {scope: '/bench/limits-sw/'});
      const worker = registration.installing ?? registration.waiting ?? registration.active;
      if (worker.state !== 'activated') {
        await new Promise((resolve, reject) => {
          const late = setTimeout(() => reject(new Error(`the bench worker is ${worker.state}, not activated, after 30 s`)), 30000);
          worker.addEventListener('statechange', () => {
            if (worker.state !== 'activated' && worker.state !== 'redundant') return;
            clearTimeout(late);
            if (worker.state === 'activated') resolve();
            else reject(new Error('the bench worker became redundant before it activated'));
          });
        });
      }
      window.limitsWorker = worker;
      await fetch(u, {cache: 'no-store'}).then((r) => r.text());
    }, mpdUrl);
    return withCpu(
      page,
      (a) =>
        new Promise((resolve, reject) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
          window.limitsWorker.postMessage(a, [channel.port2]);
        }),
      {items, concurrency: CONCURRENCY, batch: BATCH},
    );
  });
}

/** CPU seconds the whole machine spent per MB (10^6 bytes) of `r`, or null without figures. */
const cpuPerMb = (r) => (r.cpu ? r.cpu.busyS / (r.bytes / 1e6) : null);
const cpuText = (r) => (r.cpu ? `, CPU ${round(r.cpu.busyS, 2)} s (${Math.round(r.cpu.share * 100)} % of ${r.cpu.cores} cores)` : '');
const line = (name, r) => `  ${name.padEnd(16)} ${String(r.bytes).padStart(11)} B in ${round(r.ms / 1000, 2)} s = ${round(mbps(r))} MB/s${cpuText(r)}`;

/**
 * Runs the benchmark; resolves to the scoreboard rows.
 * @param {{runs?: number, log?: (line: string) => void}} [opts]
 */
export async function run(opts = {}) {
  const {runs = 5, log = (l) => console.error(l)} = opts;
  ensureContent(log);
  const media = await startMediaServer({contentDir: CONTENT_DIR});
  const app = await startBenchServer({root: REPO});
  try {
    const mpdUrl = `${media.url}/content/bench-200m.mpd`;
    const figures = {ours: [], fetch: [], store: [], both: [], worker: []};
    const cpu = {ours: [], fetch: [], store: [], both: [], worker: []};
    let items = null;
    let bytes = 0;
    log(`limits: bench-200m.mpd, ${runs} trials each of ours and fetch alone → store alone, a fresh browser profile per trial`);
    for (let i = 0; i < runs; i++) {
      const ours = await oursDownload(app, mpdUrl);
      if (!items) {
        items = ours.records.map((r) => ({url: r.url, range: r.range}));
        bytes = ours.bytes;
        log(`  ours stored ${items.length} segments, ${bytes} bytes`);
      }
      log(line(`ours #${i + 1}`, ours));
      const {fetched, kept, stored, both} = await fetchThenStore(app, mpdUrl, items);
      const inWorker = await workerFetchAndStore(app, mpdUrl, items);
      log(line(`fetch alone #${i + 1}`, fetched));
      log(`${line(`fetch, kept #${i + 1}`, kept)}  (the Blobs for the store step; not a row)`);
      log(`${line(`store alone #${i + 1}`, stored)}  ${stored.transactions} transactions`);
      log(`${line(`fetch+store #${i + 1}`, both)}  ${both.transactions} transactions`);
      log(`${line(`in a worker #${i + 1}`, inWorker)}  ${inWorker.transactions} transactions (fetch+store in a plain JS service worker)`);
      for (const r of [fetched, kept, stored, both, inWorker]) {
        if (r.bytes !== bytes) log(`  !! ${r.bytes} bytes, ours stored ${bytes}: not like for like`);
      }
      figures.ours.push(mbps(ours));
      figures.fetch.push(mbps(fetched));
      figures.store.push(mbps(stored));
      figures.both.push(mbps(both));
      figures.worker.push(mbps(inWorker));
      for (const [k, r] of [
        ['ours', ours],
        ['fetch', fetched],
        ['store', stored],
        ['both', both],
        ['worker', inWorker],
      ]) {
        const c = cpuPerMb(r);
        if (c !== null) cpu[k].push(c);
      }
    }
    const med = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, median(v)]));
    const slower = Math.min(med.fetch, med.store);
    const which = med.fetch <= med.store ? 'fetch alone' : 'store alone';
    const share = (med.ours / slower) * 100;
    log(
      `  median MB/s: ours ${round(med.ours)}, fetch alone ${round(med.fetch)}, store alone ${round(med.store)}, fetch+store in page JS ${round(med.both)}, in a plain JS worker ${round(med.worker)}; ours = ${round(share)} % of ${which}`,
    );
    // Fetching and storing at once share the cores: with every core busy, the machine manages
    // no more than cores ÷ (CPU per MB of fetching + of storing), whatever the schedule.
    const cores = os.cpus().length;
    const cpuMed = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v.length === runs ? median(v) : null]));
    const ceiling = cpuMed.fetch && cpuMed.store && cores ? cores / (cpuMed.fetch + cpuMed.store) : null;
    const cpuRows = [];
    if (ceiling !== null) {
      log(
        `  median CPU ms per MB (whole machine): ours ${round(cpuMed.ours * 1000, 2)}, fetch alone ${round(cpuMed.fetch * 1000, 2)}, store alone ${round(cpuMed.store * 1000, 2)}, fetch+store in page JS ${round(cpuMed.both * 1000, 2)}, in a plain JS worker ${round(cpuMed.worker * 1000, 2)}; ${cores} cores ÷ (fetch + store) = ${round(ceiling)} MB/s`,
      );
      cpuRows.push(
        row(
          'CPU per MB downloaded (whole machine, context)',
          'ms/MB',
          cpuMed.ours * 1000,
          'the same fetch → Blob → IndexedDB in a plain JS service worker',
          cpuMed.worker * 1000,
          null,
          null,
        ),
        row(
          'download vs the CPU ceiling of fetching and storing at once (context)',
          'MB/s',
          med.ours,
          `${cores} cores ÷ CPU per MB of fetch alone + store alone`,
          ceiling,
          null,
          null,
        ),
      );
    }
    return [
      row('download vs fetch alone (machine limit)', 'MB/s', med.ours, `fetch → Blob, ${CONCURRENCY} in flight, discarded`, med.fetch, null, null),
      row('download vs store alone (machine limit)', 'MB/s', med.ours, `Blobs → IndexedDB, ${BATCH} puts/tx, 1 tx in flight`, med.store, null, null),
      row(
        'download vs fetch and store at once (page JS, as our job schedules)',
        'MB/s',
        med.ours,
        `fetch → Blob → IndexedDB, ${CONCURRENCY} in flight, ${BATCH} puts/tx`,
        med.both,
        null,
        null,
      ),
      row(
        'download vs fetch and store at once in a plain JS service worker (context)',
        'MB/s',
        med.ours,
        `the page-JS pipeline in a worker, first in a fresh browser as ours`,
        med.worker,
        null,
        null,
      ),
      ...cpuRows,
      row('download as a share of the slower of fetch/store', '%', share, `${which} (${round(slower)} MB/s) = 100 %`, 100, '≥ 80 %', share >= 80),
    ];
  } finally {
    await app.stop();
    await media.stop();
  }
}

function row(name, unit, ours, peerName, peer, goal, met) {
  const ratio = peer > 0 ? ours / peer : null;
  return {name, unit, ours: round(ours), peer_name: peerName, peer: round(peer), ratio: ratio === null ? null : round(ratio, 2), goal, met};
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--runs');
  console.log(JSON.stringify(await run({runs: i >= 0 ? Number(args[i + 1]) : 5}), null, 1));
}
