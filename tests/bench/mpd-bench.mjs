// The planner benchmark: parse + plan of two large MPDs by our planner
// natively and in wasm, beside shaka-player's DASH parser on the same files, in node.
//
//   node tests/bench/mpd-bench.mjs [--runs N] [--warmup N] [--no-build]
//
// `run(opts)` is the same benchmark for tests/bench/scoreboard.mjs: it returns the scoreboard's
// rows (native vs shaka and wasm vs shaka, per file) and prints nothing on stdout; it builds
// unless `opts.noBuild` is set and the built artifacts exist.
//
// 1. Builds `cargo build --profile native -p mpd --example plan_bench` (native, opt-level 3) and
//    `cargo build --release --target wasm32-unknown-unknown -p mpd-wasm`, then
//    `wasm-bindgen --target nodejs` into target/bench/mpd-wasm/ and `wasm-opt -Oz` (the flags of
//    scripts/build.sh), so the wasm is built like the worker's (workspace release profile:
//    opt-level "z", LTO). --no-build skips this step.
// 2. Writes target/bench/mpd/{timeline-3h,duration-50k}.mpd (make-big-mpds.mjs says what is in
//    them).
// 3. Times, per file, `--warmup` untimed runs (default 3) then `--runs` timed ones (default 11, at least 5)
//    and reports the median:
//    - rust-native: the plan_bench example (a child process): Planner::new + finish with every
//      representation selected (`all: true`), which also writes the local manifest;
//    - rust-wasm: the same through mpd-wasm's `plan_all(text, url)`, in this process (the JS
//      string is copied into wasm memory on every run, as the worker would do);
//    - shaka: shaka-player 5.2.12's release build (shaka-player.compiled.js) in a `vm` context:
//      `new shaka.dash.DashParser()` configured with the default config, `start(file: URL)`
//      with the MPD loaded from disk by a registered `file:` scheme, then for every stream of
//      the manifest `createSegmentIndex()` and every top-level reference visited
//      (`get(i)` for i < getNumReferences(): forEachTopLevelReference is not exported by the
//      release build) with its URI resolved (`getUris()`), which shaka.offline.Storage needs
//      to download it.
//      shaka's indexes are lazy: references and URIs are only made when visited.
// 4. Checks that the three count the same media segments per file (and the count the
//    generator intends); a mismatch is printed loudly and the exit status is 1.
// 5. Prints a table and writes it as JSON to target/bench/mpd-latest.json.
// Goal: shaka's median / ours >= 5, for native and for wasm.

import {loadShakaBuild, manifestPlayerInterface} from '../shaka-diff/shaka-load.mjs';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {performance} from 'node:perf_hooks';
import {makeBigMpds, EXPECTED_SEGMENTS} from './make-big-mpds.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const TARGET = path.join(REPO, 'target');
const WASM_OUT = path.join(TARGET, 'bench/mpd-wasm');
const LATEST = path.join(TARGET, 'bench/mpd-latest.json');
const SHAKA_JS = path.join(REPO, 'node_modules/shaka-player/dist/shaka-player.compiled.js');
const GOAL = 5;

const NATIVE_EXE = path.join(TARGET, 'native/examples/plan_bench');

function sh(cmd, argv) {
  console.error(`$ ${[path.relative(REPO, cmd) || cmd, ...argv].join(' ')}`);
  execFileSync(cmd, argv, {cwd: REPO, stdio: ['ignore', 2, 2]}); // build output on stderr
}

function build() {
  sh('cargo', ['build', '--profile', 'native', '-q', '-p', 'mpd', '--example', 'plan_bench']);
  sh('cargo', ['build', '--release', '-q', '--target', 'wasm32-unknown-unknown', '-p', 'mpd-wasm']);
  fs.mkdirSync(WASM_OUT, {recursive: true});
  sh('wasm-bindgen', ['--target', 'nodejs', '--no-typescript', '--out-dir', WASM_OUT, path.join(TARGET, 'wasm32-unknown-unknown/release/mpd_wasm.wasm')]);
  const bg = path.join(WASM_OUT, 'mpd_wasm_bg.wasm');
  sh(path.join(REPO, 'node_modules/.bin/wasm-opt'), [
    '-Oz',
    '--strip-debug',
    '--enable-bulk-memory',
    '--enable-nontrapping-float-to-int',
    '--enable-sign-ext',
    '--enable-reference-types',
    '--enable-multivalue',
    '--enable-mutable-globals',
    bg,
    '-o',
    bg,
  ]);
  // The glue is CommonJS; the repo's package.json says "type": "module".
  fs.writeFileSync(path.join(WASM_OUT, 'package.json'), '{"type": "commonjs"}\n');
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

async function time(fn, {runs, warmup}) {
  let count = null;
  for (let i = 0; i < warmup; i++) count = await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    count = await fn();
    times.push(performance.now() - t0);
  }
  return {median_ms: median(times), min_ms: Math.min(...times), runs, segments: count};
}

// ------------------------------------------------------------------------------ rust-native

function benchNative(files, {runs, warmup}) {
  const out = execFileSync(NATIVE_EXE, ['--runs', String(runs), '--warmup', String(warmup), ...files], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const byFile = new Map();
  for (const line of out.split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    byFile.set(path.resolve(REPO, r.file), r);
  }
  return byFile;
}

// -------------------------------------------------------------------------------- rust-wasm

function loadWasm() {
  const require = createRequire(import.meta.url);
  return require(path.join(WASM_OUT, 'mpd_wasm.js'));
}

async function benchWasm(wasm, file, counts) {
  const text = fs.readFileSync(file, 'utf8');
  const url = pathToFileURL(file).href;
  return time(() => wasm.plan_all(text, url), counts);
}

// ------------------------------------------------------------------------------------ shaka

/** shaka's release build, loaded by the differential test's loader (same stubs and file: scheme). */
function loadShaka() {
  return loadShakaBuild(SHAKA_JS).shaka;
}

/** One shaka run: parse, every stream's segment index, every reference and its URI. */
async function shakaOnce(shaka, uri) {
  const config = shaka.util.PlayerConfiguration.createDefault();
  const net = new shaka.net.NetworkingEngine();
  net.configure(config.networking);
  const errors = [];
  const playerInterface = manifestPlayerInterface(net, config.streaming.retryParameters, errors);
  const parser = new shaka.dash.DashParser();
  parser.configure(config.manifest);
  try {
    const manifest = await parser.start(uri, playerInterface);
    if (errors.length) throw errors[0];
    const streams = new Set();
    for (const v of manifest.variants) {
      if (v.video) streams.add(v.video);
      if (v.audio) streams.add(v.audio);
    }
    for (const s of manifest.textStreams) streams.add(s);
    for (const s of manifest.imageStreams) streams.add(s);
    let count = 0;
    for (const stream of streams) {
      await stream.createSegmentIndex();
      // forEachTopLevelReference, with the methods the release build exports.
      const index = stream.segmentIndex;
      const first = index.getNumEvicted();
      const n = index.getNumReferences();
      for (let i = 0; i < n; i++) {
        const ref = index.get(first + i);
        if (ref?.getUris().length) count++;
      }
    }
    return count;
  } finally {
    await parser.stop();
    await net.destroy();
  }
}

async function benchShaka(shaka, file, counts) {
  const uri = pathToFileURL(file).href;
  try {
    return await time(() => shakaOnce(shaka, uri), counts);
  } catch (e) {
    const code = e && typeof e.code === 'number' ? ` code ${e.code} ${JSON.stringify(e.data ?? [])}` : '';
    throw new Error(`shaka failed on ${file}:${code} ${e?.stack || e}`);
  }
}

// ------------------------------------------------------------------------------------- main

function fmtMs(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function table(rows) {
  const head = ['file', 'rust-native ms', 'rust-wasm ms', 'shaka ms', 'shaka/native', 'shaka/wasm', `goal >=${GOAL}x met?`, 'segments (native/wasm/shaka)'];
  const body = rows.map((r) => [
    r.file,
    fmtMs(r.native.median_ms),
    fmtMs(r.wasm.median_ms),
    fmtMs(r.shaka.median_ms),
    `${r.shaka_over_native.toFixed(1)}x`,
    `${r.shaka_over_wasm.toFixed(1)}x`,
    r.goal_native && r.goal_wasm ? 'yes (both)' : r.goal_native ? 'native only' : r.goal_wasm ? 'wasm only' : 'NO',
    `${r.native.segments}/${r.wasm.segments}/${r.shaka.segments}${r.segments_match ? '' : '  MISMATCH'}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Builds (when asked), runs the three implementations on both files; returns the detailed rows. */
async function measure({build: doBuild, runs, warmup}) {
  const counts = {runs, warmup};
  if (doBuild) build();
  const files = makeBigMpds();
  console.error(`runs: ${warmup} warm-up + ${runs} timed per file and implementation (median)`);
  console.error('rust-native ...');
  const native = benchNative(files, counts);
  console.error('rust-wasm ...');
  const wasm = loadWasm();
  const wasmResults = new Map();
  for (const f of files) wasmResults.set(f, await benchWasm(wasm, f, counts));
  console.error('shaka ...');
  const shaka = loadShaka();
  const shakaResults = new Map();
  for (const f of files) shakaResults.set(f, await benchShaka(shaka, f, counts));

  const rows = files.map((f) => {
    const n = native.get(f);
    const w = wasmResults.get(f);
    const s = shakaResults.get(f);
    if (!n) throw new Error(`plan_bench printed nothing for ${f}`);
    const expected = EXPECTED_SEGMENTS[path.basename(f)];
    const counts = [n.segments, w.segments, s.segments];
    return {
      file: path.relative(REPO, f),
      native: {median_ms: n.median_ms, min_ms: n.min_ms, runs: n.runs, segments: n.segments},
      wasm: w,
      shaka: s,
      expected_segments: expected,
      segments_match: counts.every((c) => c === counts[0]) && counts[0] === expected,
      shaka_over_native: s.median_ms / n.median_ms,
      shaka_over_wasm: s.median_ms / w.median_ms,
      goal_native: s.median_ms / n.median_ms >= GOAL,
      goal_wasm: s.median_ms / w.median_ms >= GOAL,
    };
  });

  return {rows, shakaVersion: shaka.Player.version};
}

/** For tests/bench/scoreboard.mjs: rows {name, unit, ours, peer_name, peer, ratio, goal, met}. */
export async function run(opts = {}) {
  const built = fs.existsSync(NATIVE_EXE) && fs.existsSync(path.join(WASM_OUT, 'mpd_wasm.js'));
  const {rows, shakaVersion} = await measure({build: !opts.noBuild || !built, runs: 11, warmup: 3});
  const out = [];
  for (const r of rows) {
    for (const [impl, ours] of [
      ['native', r.native],
      ['wasm', r.wasm],
    ]) {
      const ratio = ours.median_ms / r.shaka.median_ms;
      out.push({
        name: `parse+plan ${path.basename(r.file)}, ${impl}`,
        unit: 'ms',
        ours: ours.median_ms,
        peer_name: `shaka-player ${shakaVersion} DashParser`,
        peer: r.shaka.median_ms,
        ratio,
        goal: `≥ ${GOAL}× faster (ratio ≤ ${(1 / GOAL).toFixed(2)})`,
        met: ratio <= 1 / GOAL && r.segments_match,
        ...(r.segments_match
          ? {}
          : {
              error:
                `segment counts differ: native ${r.native.segments}, ` + `wasm ${r.wasm.segments}, shaka ${r.shaka.segments}, expected ${r.expected_segments}`,
            }),
      });
    }
  }
  return out;
}

async function main() {
  const t0 = performance.now();
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const runs = Math.max(5, opt('--runs', 11));
  const warmup = Math.max(1, opt('--warmup', 3));
  const {rows, shakaVersion} = await measure({build: !args.includes('--no-build'), runs, warmup});
  console.log(table(rows));
  const mismatches = rows.filter((r) => !r.segments_match);
  for (const r of mismatches) {
    console.log(
      `\n!!! SEGMENT COUNT MISMATCH on ${r.file}: rust-native ${r.native.segments}, `
        + `rust-wasm ${r.wasm.segments}, shaka ${r.shaka.segments}, expected ${r.expected_segments} !!!`,
    );
  }
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    shaka: `shaka-player ${shakaVersion} (${path.basename(SHAKA_JS)})`,
    warmup,
    runs,
    goal: `shaka median / ours >= ${GOAL}`,
    rows,
  };
  fs.mkdirSync(path.dirname(LATEST), {recursive: true});
  fs.writeFileSync(LATEST, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten ${path.relative(REPO, LATEST)}; total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (mismatches.length) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e?.stack || e);
    process.exit(1);
  });
}
