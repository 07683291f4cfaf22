// Background mode's throughput beside the foreground engine's: the same ~220 MB stream
// (bench-200m.mpd, tests/bench/make-big-content.sh) downloaded by our worker with
// `{background: true}` (Chromium's Background Fetch fetches, the worker stores each delivery)
// and with no option (the worker's own engine, at its default concurrency), in the same headless
// Chromium from the same loopback media server, alternating, a fresh on-disk profile per trial.
// The clock runs from download() to the 'completed' statechange in both, so a background
// trial includes the browser's start-up of its download service (~4 s for the first fetch of
// a session, measured) and the worker's storing of the deliveries.
//
//   node tests/bench/background-bench.mjs [--runs N]     (or through tests/bench/scoreboard.mjs)

import {pathToFileURL} from 'node:url';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {startMediaServer} from '../server/media-server.mjs';
import {startBenchServer} from './bench-server.mjs';
import {CONTENT_DIR, ensureContent, mbps, median, oursTrial} from './download-bench.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Resolves to the scoreboard rows [{name, unit, ours, peer_name, peer, ratio, goal, met}]. */
export async function run({runs = 3, log = (line) => console.error(line)} = {}) {
  ensureContent(log);
  const media = await startMediaServer({contentDir: CONTENT_DIR});
  const app = await startBenchServer({root: REPO});
  const speeds = {background: [], foreground: []};
  try {
    const url = `${media.url}/content/bench-200m.mpd`;
    for (let i = 0; i < runs; i++) {
      for (const mode of ['background', 'foreground']) {
        const r = await oursTrial(app, url, false, mode === 'background' ? {background: true} : {});
        if (r.mode !== mode) throw new Error(`the ${mode} trial ran in ${r.mode} mode: ${r.modeReason}`);
        speeds[mode].push(mbps(r));
        log(`  ${mode} #${i + 1}: ${r.bytes} B in ${round(r.ms / 1000, 2)} s = ${round(mbps(r))} MB/s (${r.segments} segments)`);
      }
    }
  } finally {
    await app.stop();
    await media.stop();
  }
  const bg = median(speeds.background);
  const fg = median(speeds.foreground);
  return [
    {
      name: 'background download throughput (200 MB)',
      unit: 'MB/s',
      ours: round(bg),
      peer_name: 'foreground engine',
      peer: round(fg),
      ratio: round(bg / fg, 2),
      goal: null,
      met: null,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--runs');
  const rows = await run({runs: i > 0 ? Number(process.argv[i + 1]) : 3});
  console.log(JSON.stringify(rows, null, 2));
}
