// The real-world link benchmark: our download beside shaka-player's offline storage and beside
// the link's own limit, with the loopback media server behind a throttling proxy
// (throttle-proxy.mjs) that gives it a bandwidth and a round-trip time.
//
//   node tests/bench/link-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// - Content: link-100m.mpd, written beside the bench content (make-big-content.sh) into
//   target/bench/content: bench-200m.mpd cut to 48 s, so ours stores the highest video and the
//   3 audio languages, 24 segments each, ~100 MB (~40 s at 20 Mbit/s).
// - Profiles: 100 Mbit/s with 40 ms RTT, and 20 Mbit/s with 80 ms RTT. The proxy shapes the
//   total and every connection (a connection carries at most a 256 KiB window per RTT, as a
//   TCP flow with that window would: 52 Mbit/s at 40 ms; at 80 ms the 20 Mbit/s total binds),
//   adds half the RTT each way to every byte and one RTT to a new connection (the handshake).
//   A fresh proxy per trial.
// - Every trial runs in a fresh browser (a new on-disk profile) on tests/bench/pages/download.html:
//   ours: OfflineManager download() → 'completed' (download-bench.mjs' measure), shaka:
//   shaka.offline.Storage store() of the variants made of the representations ours stored
//   (default configuration: numberOfParallelDownloads 5). One trial of each per profile.
// - Link limit: the bytes ours stored ÷ the bandwidth; ours' share = limit time ÷ ours' time.
// - Concurrency: ours again with the download option `concurrency` 2, 4 and 8 on each profile
//   (the default, JobConfig::default(), is the first trial), printed as extra rows against it.
// Rows per profile: ours as a share of the link (goal ≥ 95 %), ours vs shaka (goal: ahead),
// and the concurrency figures (no goal).

import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {startMediaServer} from '../server/media-server.mjs';
import {startBenchServer} from './bench-server.mjs';
import {CONTENT_DIR, ensureContent, mbps} from './download-bench.mjs';
import {JOB_DEFAULTS} from './bench-env.mjs';
import {freshBrowser, oursDownload} from './limits-bench.mjs';
import {startThrottleProxy} from './throttle-proxy.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const MPD = 'link-100m.mpd';
const SECONDS = 48;
const WINDOW_BYTES = 256 * 1024;
const PROFILES = [
  {name: '100 Mbit/s, 40 ms RTT', totalMbit: 100, rttMs: 40},
  {name: '20 Mbit/s, 80 ms RTT', totalMbit: 20, rttMs: 80},
];
const SWEEP = [2, 4, 8].filter((c) => c !== JOB_DEFAULTS.concurrency); // besides the default
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** One connection's limit: the window per round trip, in Mbit/s, at most the total. */
const perConnMbit = (p) => Math.min(p.totalMbit, (WINDOW_BYTES * 8) / (p.rttMs / 1000) / 1e6);

/** Writes link-100m.mpd: bench-200m.mpd with a 48 s presentation (same segment files). */
function writeMpd() {
  const src = fs.readFileSync(path.join(CONTENT_DIR, 'bench-200m.mpd'), 'utf8');
  const text = src.replace(/mediaPresentationDuration="PT\d+S"/, `mediaPresentationDuration="PT${SECONDS}S"`);
  if (text === src) throw new Error('bench-200m.mpd: no mediaPresentationDuration to cut');
  const file = path.join(CONTENT_DIR, MPD);
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
}

/** Runs `fn(proxyUrl)` with a fresh throttling proxy of profile `p` in front of the media server. */
async function throughLink(media, p, fn) {
  const proxy = await startThrottleProxy({target: media.url, totalMbit: p.totalMbit, perConnMbit: perConnMbit(p), rttMs: p.rttMs});
  try {
    const result = await fn(`${proxy.url}/content/${MPD}`);
    return {...result, link: {...proxy.stats}};
  } finally {
    await proxy.stop();
  }
}

function shakaStore(app, mpdUrl, reps) {
  return freshBrowser(app, async (page) => {
    const info = await page.evaluate(() => window.bench.shaka.prepare());
    const result = await page.evaluate(({u, r}) => window.bench.shaka.store(u, r), {u: mpdUrl, r: reps});
    return {...result, ...info};
  });
}

function describe(name, r, limitMs) {
  const l = r.link;
  return (
    `  ${name.padEnd(16)} ${String(r.bytes).padStart(10)} B in ${round(r.ms / 1000, 2)} s = ${round(mbps(r), 2)} MB/s`
    + ` (${round((limitMs / r.ms) * 100)} % of the link); proxy: ${l.connections} connections (${l.upstreamConnections} upstream), ${l.bytesDown} B down, ${round(l.bytesDown / l.busyMsDown / 1000, 2)} MB/s while busy`
  );
}

/**
 * Runs the benchmark; resolves to the scoreboard rows.
 * @param {{log?: (line: string) => void}} [opts]
 */
export async function run(opts = {}) {
  const {log = (l) => console.error(l)} = opts;
  ensureContent(log);
  writeMpd();
  const media = await startMediaServer({contentDir: CONTENT_DIR});
  const app = await startBenchServer({root: REPO});
  const rows = [];
  try {
    for (const p of PROFILES) {
      log(`link ${p.name} (one connection at most ${round(perConnMbit(p))} Mbit/s): ${MPD}, a fresh browser and proxy per trial`);
      const ours = await throughLink(media, p, (u) => oursDownload(app, u));
      const reps = [...new Set(ours.records.map((r) => /\/reps\/([^/]+)\//.exec(r.url)?.[1]).filter(Boolean))];
      const limitMs = ((ours.bytes * 8) / (p.totalMbit * 1e6)) * 1000;
      log(`  ours stored ${reps.join(', ')}: ${ours.records.length} segments, ${ours.bytes} bytes; the link's limit ${round(limitMs / 1000, 2)} s`);
      log(describe(`ours (default ${JOB_DEFAULTS.concurrency})`, ours, limitMs));
      const shaka = await throughLink(media, p, (u) => shakaStore(app, u, reps));
      log(describe(`shaka ${shaka.version}`, shaka, limitMs));
      if (shaka.bytes !== ours.bytes) log(`  !! shaka stored ${shaka.bytes} bytes, ours ${ours.bytes}: not like for like`);
      const sweep = [];
      for (const c of SWEEP) {
        const r = await throughLink(media, p, (u) => oursDownload(app, u, {concurrency: c}));
        log(describe(`ours c=${c}`, r, limitMs));
        sweep.push({c, r});
      }
      const share = (limitMs / ours.ms) * 100;
      rows.push(
        row(
          `download on a ${p.name} link, share of the link`,
          '%',
          share,
          `link limit (${round(ours.bytes / 1e6)} MB ÷ ${p.totalMbit} Mbit/s = ${round(limitMs / 1000, 1)} s) = 100 %`,
          100,
          '≥ 95 %',
          share >= 95,
        ),
        row(
          `download on a ${p.name} link vs shaka Storage`,
          'MB/s',
          mbps(ours),
          `shaka.offline.Storage ${shaka.version} (${shaka.parallel} parallel)`,
          mbps(shaka),
          'ratio > 1 (ours faster)',
          mbps(ours) > mbps(shaka),
        ),
      );
      for (const {c, r} of sweep) {
        rows.push(
          row(
            `download on a ${p.name} link, concurrency ${c}`,
            'MB/s',
            mbps(r),
            `ours, default concurrency ${JOB_DEFAULTS.concurrency}`,
            mbps(ours),
            null,
            null,
          ),
        );
      }
    }
    return rows;
  } finally {
    await app.stop();
    await media.stop();
  }
}

function row(name, unit, ours, peerName, peer, goal, met) {
  const ratio = peer > 0 ? ours / peer : null;
  return {name, unit, ours: round(ours, 2), peer_name: peerName, peer: round(peer, 2), ratio: ratio === null ? null : round(ratio, 2), goal, met};
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await run(), null, 1));
}
