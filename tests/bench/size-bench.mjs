// Size figures: what an app serves, raw and gzip (`gzip -9`, the figure
// scripts/build.sh prints; node's zlib at level 9 when there is no gzip, ~2 % larger), beside
// shaka-player's compiled build for context.
//
//   node tests/bench/size-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// Goals: the worker's wasm ≤ 200 KB gzip; the page shim (dist/offline-manager.js) ≤ 10 KB gzip.
// KB = 1000 bytes.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {execFileSync} from 'node:child_process';
import {pathToFileURL} from 'node:url';
import {ROOT, row} from './bench-env.mjs';

const WASM = path.join(ROOT, 'dist/offline-manager-sw_bg.wasm');
const SHIM = path.join(ROOT, 'dist/offline-manager.js');
const SHAKA = path.join(ROOT, 'node_modules/shaka-player/dist/shaka-player.compiled.js');
const SHAKA_NAME = 'shaka-player.compiled.js';

const raw = (file) => fs.statSync(file).size;
function gzip(file) {
  try {
    return execFileSync('gzip', ['-9c', file], {maxBuffer: 1 << 26}).length;
  } catch {
    return zlib.gzipSync(fs.readFileSync(file), {level: 9}).length;
  }
}

export async function run() {
  const shakaRaw = fs.existsSync(SHAKA) ? raw(SHAKA) : null;
  const shakaGzip = fs.existsSync(SHAKA) ? gzip(SHAKA) : null;
  const wasmGzip = row('worker wasm, gzip', 'bytes', gzip(WASM), SHAKA_NAME, shakaGzip, '≤ 200 KB');
  wasmGzip.met = wasmGzip.ours <= 200_000;
  const shim = row('page shim offline-manager.js, gzip', 'bytes', gzip(SHIM), null, null, '≤ 10 KB');
  shim.met = shim.ours <= 10_000;
  return [row('worker wasm, raw', 'bytes', raw(WASM), SHAKA_NAME, shakaRaw), wasmGzip, shim];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 1));
}
