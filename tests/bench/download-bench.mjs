// The download benchmark: our worker beside shaka-player's offline storage and a plain
// fetch → blob → IndexedDB loop, downloading the same segments of a ~220 MB DASH stream in the
// same headless Chromium from the same loopback media server; then the browser's memory while
// a ~1.1 GB stream downloads.
//
//   node tests/bench/download-bench.mjs [--runs N] [--no-memory] [--no-sweep]
//   import {run} from './download-bench.mjs'; const rows = await run(); // progress on stderr
//   (standalone: progress and details on stderr, the table on stdout)
//
// - Content: tests/bench/make-big-content.sh (ffmpeg, cached in target/bench/content):
//   bench-200m.mpd and bench-1g.mpd, 3 video representations (the same ~16.6 Mbit/s bytes
//   declared at 3 bitrates) and 3 audio languages, 2 s segments of ~4 MB.
// - Every trial runs in a fresh browser: chromium.launchPersistentContext on a new temporary
//   profile (on disk, as for a user; Playwright's default contexts keep IndexedDB in memory),
//   deleted afterwards. Page: tests/bench/pages/download.html on a bench origin (bench-server.mjs).
// - ours: OfflineManager.getMediaConfig({entryId, sources: {dash: [{url}]}}) (registers the
//   worker), then the clock runs from download(id, {}) to the 'completed' statechange. With
//   no options it stores the highest video and every audio language; the segments it stored
//   (read back from its IndexedDB) are the set the other two download.
// - shaka: shaka-player 5.2.12 (compiled build) shaka.offline.Storage, default configuration
//   (numberOfParallelDownloads 5) except trackSelectionCallback, which picks the variants
//   made of the representations ours stored; the clock runs from store(url) to its promise.
// - loop: the manifest, then fetch → blob → IndexedDB put of ours' segment URLs, as many
//   requests in flight and puts per transaction as ours (JobConfig::default(), read from the
//   worker's generated constants); the clock runs until the last transaction completes.
// - Throughput: bytes stored / wall time, 1 MB = 10^6 bytes; median of `runs` (default 3)
//   trials per downloader, in the order ours, shaka, loop, repeated.
// - Memory: the sum of RSS over the browser's process tree (/proc), sampled every 100 ms,
//   peak minus the value just before the download starts, for ours and for the loop on the
//   1 GB stream (one trial each). 1 MB = 10^6 bytes here too.
// - Concurrency: ours (download option `concurrency`) and the loop at 2, 4 and 8 requests in
//   flight (batch 4), `runs` trials each, median: loopback's side of ours' default (the link
//   benchmark, link-bench.mjs, gives the other).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {execFileSync} from 'node:child_process';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {chromium} from 'playwright-core';
import {CHROMIUM_OPTIONS} from '../e2e/harness.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startBenchServer} from './bench-server.mjs';
import {commOf, descendants, startRssSampler} from './proc-rss.mjs';
import {JOB_DEFAULTS} from './bench-env.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
export const CONTENT_DIR = process.env.BENCH_CONTENT_DIR || path.join(REPO, 'target/bench/content');
const LATEST = path.join(REPO, 'target/bench/download-latest.json');
const {concurrency: CONCURRENCY, batch: BATCH} = JOB_DEFAULTS; // ours: JobConfig::default()
const SWEEP = [2, 4, 8];
const MB = 1e6;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
export const mbps = (r) => r.bytes / MB / (r.ms / 1000);
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function ensureContent(log) {
  const out = execFileSync('bash', [path.join(HERE, 'make-big-content.sh')], {env: {...process.env, BENCH_CONTENT_DIR: CONTENT_DIR}, encoding: 'utf8'});
  log(out.trim());
}

/**
 * Runs `fn({page, sampler})` in a fresh Chromium with a new on-disk profile, the benchmark
 * page loaded. `sampler()` starts an RSS sampler over the browser's process tree.
 */
async function trial(app, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-dlbench-'));
  const before = new Set(descendants(process.pid));
  const context = await chromium.launchPersistentContext(dir, CHROMIUM_OPTIONS);
  try {
    const roots = descendants(process.pid).filter((p) => !before.has(p) && /chrom/.test(commOf(p) ?? ''));
    const browserPid = roots.find((p) => !roots.some((q) => descendants(q).includes(p)));
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    await page.goto(`${app.url}/bench/download.html`);
    await page.waitForFunction(() => window.benchReady === true);
    return await fn({page, sampler: () => startRssSampler(browserPid, 100)});
  } finally {
    await context.close();
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

/** Measures the RSS growth of the browser while `step()` runs in the page. */
async function withMemory(sampler, step, measure) {
  if (!measure) return {result: await step(), rssGrowth: null};
  await sleep(1000); // let the start-up settle
  const s = sampler();
  const result = await step();
  const {base, peak, growth} = s.stop();
  return {result, rssGrowth: peak - base, rssBase: base, rssByProcess: growth};
}

export function oursTrial(app, url, memory = false, options = {}) {
  return trial(app, async ({page, sampler}) => {
    await page.evaluate((u) => window.bench.ours.prepare(u), url);
    const {result, ...mem} = await withMemory(sampler, () => page.evaluate((o) => window.bench.ours.download(o), options), memory);
    return {...result, ...mem};
  });
}

function shakaTrial(app, url, reps) {
  return trial(app, async ({page}) => {
    const info = await page.evaluate(() => window.bench.shaka.prepare());
    const result = await page.evaluate(({u, r}) => window.bench.shaka.store(u, r), {u: url, r: reps});
    return {...result, ...info};
  });
}

function loopTrial(app, url, items, concurrency, memory = false) {
  return trial(app, async ({page, sampler}) => {
    await page.evaluate(() => window.bench.loop.prepare());
    const {result, ...mem} = await withMemory(
      sampler,
      () => page.evaluate(({u, i, c, b}) => window.bench.loop.run(u, i, c, b), {u: url, i: items, c: concurrency, b: BATCH}),
      memory,
    );
    return {...result, ...mem};
  });
}

/** What ours stored: representation ids and the segment list for the other downloaders. */
function selectionOf(ours) {
  const reps = [...new Set(ours.records.map((r) => /\/reps\/([^/]+)\//.exec(r.url)?.[1]).filter(Boolean))];
  const items = ours.records.map((r) => ({url: r.url, range: r.range}));
  return {reps, items, bytes: ours.bytes, segments: ours.records.length};
}

function describe(name, r) {
  const extra = [];
  if (r.segments !== undefined) extra.push(`${r.segments} segments`);
  if (r.transactions !== undefined) extra.push(`${r.transactions} transactions`);
  if (r.rssGrowth != null) {
    const who = r.rssByProcess
      .slice(0, 3)
      .map((g) => `${g.role} +${round(g.growth / MB, 0)}`)
      .join(', ');
    extra.push(`RSS +${round(r.rssGrowth / MB)} MB (base ${round(r.rssBase / MB)} MB; at the peak: ${who})`);
  }
  return `  ${name.padEnd(14)} ${String(r.bytes).padStart(11)} B in ${round(r.ms / 1000, 2)} s = ${round(mbps(r))} MB/s  ${extra.join(', ')}`;
}

/** Warns loudly when the downloaders did not store the same bytes. */
function checkBytes(log, label, expected, runs) {
  for (const [name, r] of runs) {
    if (r.bytes !== expected) log(`  !! ${label}: ${name} stored ${r.bytes} bytes, ours ${expected}: the comparison is not like for like`);
  }
}

/**
 * Runs the benchmark; resolves to the scoreboard rows
 * [{name, unit, ours, peer_name, peer, ratio, goal, met}].
 * @param {{runs?: number, memory?: boolean, sweep?: boolean, log?: (line: string) => void}} [opts]
 */
export async function run(opts = {}) {
  const {runs = 3, memory = true, sweep = true, log = (line) => console.error(line)} = opts;
  const started = Date.now();
  ensureContent(log);
  const media = await startMediaServer({contentDir: CONTENT_DIR});
  const app = await startBenchServer({root: REPO});
  const report = {runs: {ours: [], shaka: [], loop: []}, memory: null, sweep: []};
  try {
    const url200 = `${media.url}/content/bench-200m.mpd`;
    let sel = null;
    let shakaVersion = '';
    log(`throughput: ${runs} trials each on bench-200m.mpd, a fresh browser profile per trial`);
    for (let i = 0; i < runs; i++) {
      const ours = await oursTrial(app, url200);
      if (!sel) {
        sel = selectionOf(ours);
        log(
          `  ours selected ${sel.reps.join(', ')}: ${sel.segments} segments (segmentsTotal ${ours.segmentsTotal}), `
            + `${ours.bytes} bytes (expectedSize ${ours.expectedSize}, records ${ours.storedRecordBytes})`,
        );
      }
      log(describe(`ours #${i + 1}`, ours));
      const shaka = await shakaTrial(app, url200, sel.reps);
      shakaVersion = shaka.version;
      if (i === 0) log(`  shaka ${shaka.version}, numberOfParallelDownloads ${shaka.parallel}, variants stored: ${shaka.chosen.join(' ')}`);
      log(describe(`shaka #${i + 1}`, shaka));
      const loop = await loopTrial(app, url200, sel.items, CONCURRENCY);
      log(describe(`loop #${i + 1}`, loop));
      checkBytes(log, `trial ${i + 1}`, sel.bytes, [
        ['ours', ours],
        ['shaka', shaka],
        ['loop', loop],
      ]);
      if (shaka.segmentBytes !== shaka.bytes) log(`  !! shaka's segment responses carried ${shaka.segmentBytes} bytes, its stored size is ${shaka.bytes}`);
      for (const [k, r] of [
        ['ours', ours],
        ['shaka', shaka],
        ['loop', loop],
      ]) {
        report.runs[k].push({ms: r.ms, bytes: r.bytes, mbps: mbps(r)});
      }
    }
    const med = Object.fromEntries(Object.entries(report.runs).map(([k, v]) => [k, median(v.map((r) => r.mbps))]));
    log(`  median MB/s: ours ${round(med.ours)}, shaka ${round(med.shaka)}, loop ${round(med.loop)}`);

    if (sweep) {
      log(`concurrency: ours (download option \`concurrency\`) and the loop at ${SWEEP.join('/')} in flight, batch ${BATCH}, ${runs} trials each:`);
      const byC = new Map(
        SWEEP.flatMap((c) => [
          [`ours ${c}`, []],
          [`loop ${c}`, []],
        ]),
      );
      for (let i = 0; i < runs; i++) {
        for (const c of i % 2 ? [...SWEEP].reverse() : SWEEP) {
          const o = await oursTrial(app, url200, false, {concurrency: c});
          byC.get(`ours ${c}`).push(mbps(o));
          log(describe(`ours c=${c}`, o));
          const r = await loopTrial(app, url200, sel.items, c);
          byC.get(`loop ${c}`).push(mbps(r));
          log(describe(`loop c=${c}`, r));
        }
      }
      for (const [who, xs] of byC) report.sweep.push({who, mbps: median(xs), runs: xs});
      log(`  median MB/s: ${report.sweep.map((w) => `${w.who} ${round(w.mbps)}`).join(', ')}`);
    }

    let mem = null;
    if (memory) {
      const url1g = `${media.url}/content/bench-1g.mpd`;
      log('memory: bench-1g.mpd, browser process tree RSS every 100 ms, peak minus start');
      const ours = await oursTrial(app, url1g, true);
      log(describe('ours 1 GB', ours));
      const loop = await loopTrial(app, url1g, selectionOf(ours).items, CONCURRENCY, true);
      log(describe('loop 1 GB', loop));
      checkBytes(log, '1 GB', ours.bytes, [['loop', loop]]);
      mem = {
        ours: ours.rssGrowth / MB,
        loop: loop.rssGrowth / MB,
        bytes: ours.bytes,
        oursMbps: mbps(ours),
        loopMbps: mbps(loop),
        oursByProcess: ours.rssByProcess,
        loopByProcess: loop.rssByProcess,
      };
      report.memory = mem;
    }

    const rows = [
      row('download throughput vs shaka Storage', 'MB/s', med.ours, `shaka.offline.Storage ${shakaVersion}`, med.shaka, '≥ 1.5× shaka', (r) => r >= 1.5),
      row(
        'download throughput vs plain fetch→IndexedDB loop',
        'MB/s',
        med.ours,
        `fetch→blob→IndexedDB loop (${CONCURRENCY} in flight, ${BATCH} puts/tx)`,
        med.loop,
        '≥ 0.9× loop',
        (r) => r >= 0.9,
      ),
    ];
    if (mem) {
      rows.push(row('browser peak RSS growth, 1 GB download', 'MB', mem.ours, 'fetch→blob→IndexedDB loop', mem.loop, '< 100 MB', () => mem.ours < 100));
    }
    report.rows = rows;
    report.seconds = (Date.now() - started) / 1000;
    fs.mkdirSync(path.dirname(LATEST), {recursive: true});
    fs.writeFileSync(LATEST, `${JSON.stringify(report, null, 2)}\n`);
    log(`download benchmark: ${round(report.seconds, 0)} s; JSON in ${path.relative(REPO, LATEST)}`);
    return rows;
  } finally {
    await app.stop();
    await media.stop();
  }
}

function row(name, unit, ours, peerName, peer, goal, test) {
  const ratio = peer > 0 ? ours / peer : null;
  return {
    name,
    unit,
    ours: round(ours),
    peer_name: peerName,
    peer: round(peer),
    ratio: ratio === null ? null : round(ratio, 2),
    goal,
    met: Boolean(test(ratio)),
  };
}

/** The rows as a text table. */
export function formatTable(rows) {
  const head = ['metric', 'unit', 'ours', 'peer', 'peer value', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => [r.name, r.unit, String(r.ours), r.peer_name, String(r.peer), String(r.ratio), r.goal, r.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--runs');
  const rows = await run({
    runs: i >= 0 ? Number(args[i + 1]) : 3,
    memory: !args.includes('--no-memory'),
    sweep: !args.includes('--no-sweep'),
  });
  console.log(`\n${formatTable(rows)}`);
}
