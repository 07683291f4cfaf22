// The scoreboard: every speed, size and memory figure beside its peer, in one table.
//
//   node tests/bench/scoreboard.mjs [--no-build] [--only serve,size]
//   (bash scripts/bench.sh builds dist/ first, then runs this)
//
// Each bench module exports `async function run(opts)` that returns rows
// {name, unit, ours, peer_name, peer, ratio, goal, met}; ratio is ours / peer. They run in turn; one
// that throws, times out or does not exist yet is printed with its error and its rows are marked
// NOT MEASURED, and the others still run. Prints the table on stdout (progress on stderr) and
// writes target/bench/latest.json: {machine, date, seconds, rows}. Exit status 1 when a bench
// failed; missed goals are reported, not failures.

import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {performance} from 'node:perf_hooks';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const LATEST = path.join(ROOT, 'target/bench/latest.json');
const MINUTE = 60_000;

/** The benches, in order; `rows` name what to mark NOT MEASURED when the bench fails. */
const BENCHES = [
  {
    id: 'download',
    file: 'download-bench.mjs',
    timeout: 8 * MINUTE,
    rows: [
      ['download throughput (1 GB)', 'MB/s'],
      ['browser memory during a 1 GB download', 'bytes'],
    ],
  },
  {id: 'mpd', file: 'mpd-bench.mjs', timeout: 5 * MINUTE, rows: [['manifest parse + plan', 'ms']]},
  {
    id: 'serve',
    file: 'serve-bench.mjs',
    timeout: 4 * MINUTE,
    rows: [
      ['serve segment p50', 'ms'],
      ['wasm memory after 1000 served', 'bytes'],
    ],
  },
  {id: 'start', file: 'start-bench.mjs', timeout: 4 * MINUTE, rows: [['player start offline', 'ms']]},
  {
    id: 'play-while-downloading',
    file: 'play-while-downloading-bench.mjs',
    timeout: 5 * MINUTE,
    rows: [
      ['download() → playing, nothing stored yet', 'ms'],
      ['segments fetched twice while playing a download', 'count'],
    ],
  },
  {id: 'background', file: 'background-bench.mjs', timeout: 8 * MINUTE, rows: [['background download throughput (200 MB)', 'MB/s']]},
  {id: 'coldstart', file: 'coldstart-bench.mjs', timeout: 3 * MINUTE, rows: [['worker cold start', 'ms']]},
  {id: 'size', file: 'size-bench.mjs', timeout: MINUTE, rows: [['sizes', 'bytes']]},
  {
    id: 'limits',
    file: 'limits-bench.mjs',
    timeout: 4 * MINUTE,
    rows: [
      ['download vs fetch alone (machine limit)', 'MB/s'],
      ['download vs store alone (machine limit)', 'MB/s'],
      ['download as a share of the slower of fetch/store', '%'],
    ],
  },
  {
    id: 'link',
    file: 'link-bench.mjs',
    timeout: 7 * MINUTE,
    rows: [
      ['download on a 100 Mbit/s, 40 ms RTT link, share of the link', '%'],
      ['download on a 100 Mbit/s, 40 ms RTT link vs shaka Storage', 'MB/s'],
      ['download on a 20 Mbit/s, 80 ms RTT link, share of the link', '%'],
      ['download on a 20 Mbit/s, 80 ms RTT link vs shaka Storage', 'MB/s'],
    ],
  },
  {
    id: 'scale',
    file: 'scale-bench.mjs',
    timeout: 4 * MINUTE,
    rows: [
      ['getAllDownloads(), 200 titles vs 1', 'ms'],
      ['worker cold start → segment, 200 titles vs 1', 'ms'],
    ],
  },
];

function machine() {
  const cpus = os.cpus();
  let chromium = 'chromium ?';
  try {
    chromium = execFileSync(process.env.CHROMIUM || '/usr/bin/chromium', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    /* reported as unknown */
  }
  return (
    `${os.hostname()}: ${cpus.length} × ${cpus[0]?.model?.trim() ?? 'cpu'}, `
    + `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, node ${process.version}, ${chromium}`
  );
}

function withTimeout(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Runs one bench; returns its rows, or NOT MEASURED rows carrying the error. */
async function runBench(bench, opts) {
  const t0 = performance.now();
  console.error(`== ${bench.id}: tests/bench/${bench.file}`);
  try {
    const modulePath = path.join(HERE, bench.file);
    if (!fs.existsSync(modulePath)) throw new Error(`tests/bench/${bench.file} does not exist (yet)`);
    const mod = await import(modulePath);
    if (typeof mod.run !== 'function') throw new Error(`tests/bench/${bench.file} exports no run(opts)`);
    const rows = await withTimeout(mod.run(opts), bench.timeout, bench.file);
    if (!Array.isArray(rows) || rows.some((r) => !r || typeof r.name !== 'string')) {
      throw new Error(`tests/bench/${bench.file}: run() did not return an array of rows with a name`);
    }
    console.error(`== ${bench.id}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return {rows, failed: false};
  } catch (e) {
    const error = String(e?.stack || e);
    console.error(`== ${bench.id} FAILED after ${((performance.now() - t0) / 1000).toFixed(1)} s:\n${error}`);
    const rows = bench.rows.map(([name, unit]) => ({
      name,
      unit,
      ours: null,
      peer_name: null,
      peer: null,
      ratio: null,
      goal: null,
      met: null,
      error: String(e?.message || e),
    }));
    return {rows, failed: true};
  }
}

// -------------------------------------------------------------------------------- the table

function num(x, digits) {
  return x.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});
}

function fmt(value, unit) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'number') return String(value);
  if (unit === 'bytes') {
    if (Math.abs(value) >= 1e6) return `${num(value / 1e6, 1)} MB`;
    if (Math.abs(value) >= 1e3) return `${num(value / 1e3, 1)} KB`;
    return `${value} B`;
  }
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${num(value, digits)}${unit ? ` ${unit}` : ''}`;
}

function metText(r) {
  if (r.ours === null || r.ours === undefined) return 'NOT MEASURED';
  if (r.met === true) return 'yes';
  if (r.met === false) return 'MISSED';
  return '—';
}

function table(rows) {
  const head = ['row', 'ours', 'peer name', 'peer', 'ratio', 'goal', 'met'];
  const body = rows.map((r) => [
    r.name,
    fmt(r.ours, r.unit),
    r.peer_name ?? '—',
    fmt(r.peer, r.unit),
    typeof r.ratio === 'number' ? `${num(r.ratio, 2)}×` : '—',
    r.goal ?? '—',
    metText(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// --------------------------------------------------------------------------------- main

async function main() {
  const t0 = performance.now();
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(args[onlyAt + 1].split(',')) : null;
  const opts = {noBuild: args.includes('--no-build'), root: ROOT};
  const rows = [];
  let failures = 0;
  for (const bench of BENCHES.filter((b) => !only || only.has(b.id))) {
    const result = await runBench(bench, opts);
    rows.push(...result.rows);
    if (result.failed) failures++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const report = {machine: machine(), date: new Date().toISOString(), seconds: Math.round(seconds), rows};
  fs.mkdirSync(path.dirname(LATEST), {recursive: true});
  fs.writeFileSync(LATEST, `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\n${report.machine}\n${report.date}; ratio = ours / peer\n`);
  console.log(table(rows));
  const notes = rows.filter((r) => r.error);
  if (notes.length) console.log('');
  for (const r of notes) console.log(`${r.ours === null ? 'not measured' : 'note'}: ${r.name}: ${r.error}`);
  const missed = rows.filter((r) => r.met === false).length;
  console.log(
    `\n${rows.length} rows, ${missed} goals missed, ${rows.filter((r) => r.ours === null).length} not measured; `
      + `${seconds.toFixed(0)} s; written ${path.relative(ROOT, LATEST)}`,
  );
  return failures ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e?.stack || e);
    process.exit(1);
  },
);
