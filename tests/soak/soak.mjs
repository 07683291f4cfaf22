// A long-running soak of the worker, as a command (not part of the test suite or CI):
//
//   node tests/soak/soak.mjs [--minutes 15] [--downloads 50] [--seed N] [--max-active 3] [--base-delay-ms 1200]
//
// For `--minutes` it drives one page of headless Chromium (tests/engines/chromium.mjs) like a
// user would, one action at a time, in an order drawn from a seeded RNG (the seed is printed;
// `--seed` repeats the same draws, though timing makes the run itself differ): `--downloads`
// downloads with distinct entry ids (several share a manifest of tests/.content), pauses,
// resumes, removals, worker kills (CDP ServiceWorker.stopAllWorkers, as an action of its own
// and, for 15 % of the other actions, 0-400 ms into the call) and fault-proxy rules
// (tests/server/fault-proxy.mjs: delays, 5xx/429/404, resets, stalls, wrong lengths, ignored
// ranges) switched on and off, with at most `--max-active` downloads running at once. Every
// segment request goes through the proxy, slowed by `--base-delay-ms` (a network, not a
// loopback) unless a fault rule answers it.
//
// Then faults go off, every title neither completed nor removed is resumed and waited for, and:
// - every completed title plays offline in shaka-player (media server stopped, browser
//   offline) past 2 s with no error, answered by the worker alone;
// - every stored segment (chunks joined) has the sha-256 of the origin's bytes for its
//   url/range, and is the one its plan names; a completed title has every planned segment;
// - nothing leaks: no `segments`, `manifests` or `licenses` record without its `entries`
//   record, no entry left `downloading`, nothing left of a removed entry;
// - no title was ever seen `failed` with stop reason `evicted` (nothing here takes data away).
// The figures are printed and written to target/soak/latest.json (with the operation log);
// the exit code is 1 when a check fails.
//
// Needs `bash scripts/setup.sh` (dist/, tests/.content, node_modules). What a run finds belongs
// in a test of its own (as "a title removed right after the worker restarts stays removed" in
// tests/engines/storage.test.mjs).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {CONTENT_DIR, ROOT, startServers} from '../e2e/harness.mjs';
import {sleep} from '../e2e/engine-helpers.mjs';
import {openEngine} from '../engines/engines.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';
import {verifyBytes} from './bytes.mjs';
import {draws} from './draws.mjs';
import {callOm, errorEvents, localUrls, scanStores, trimEvents} from './page-side.mjs';

const {values: argv} = parseArgs({
  options: {
    minutes: {type: 'string', default: '15'},
    downloads: {type: 'string', default: '50'},
    seed: {type: 'string'},
    'max-active': {type: 'string', default: '3'},
    'base-delay-ms': {type: 'string', default: '1200'},
    'settle-seconds': {type: 'string', default: '300'},
    verbose: {type: 'boolean', default: false},
  },
});
const MINUTES = Number(argv.minutes);
const DOWNLOADS = Number.parseInt(argv.downloads, 10);
const SEED = argv.seed === undefined ? crypto.randomInt(1, 2 ** 31) : Number.parseInt(argv.seed, 10);
const MAX_ACTIVE = Number.parseInt(argv['max-active'], 10);
const BASE_DELAY_MS = Number.parseInt(argv['base-delay-ms'], 10);
const SETTLE_MS = Number(argv['settle-seconds']) * 1000;
for (const [name, v] of Object.entries({MINUTES, DOWNLOADS, SEED, MAX_ACTIVE, BASE_DELAY_MS, SETTLE_MS})) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad ${name}: ${v}`);
}
const CALL_TIMEOUT_MS = 90_000; // the shim's own request timeout is 30 s: beyond this a call hangs
const PLAY_SECONDS = 2;
const OUT = path.join(ROOT, 'target/soak/latest.json');

const {random, pick, between, weighted, randomFault} = draws(SEED, () => FORMS);

// --- what is downloaded -------------------------------------------------------------------

/** The clear streams of tests/.content with their relative weight (`many`: 122 small segments). */
const FORMS = Object.entries({template: 1, timeline: 1, list: 1, base: 1, many: 2, webm: 1})
  .filter(([form]) => fs.existsSync(path.join(CONTENT_DIR, form, 'manifest.mpd')))
  .flatMap(([form, w]) => Array(w).fill(form));
if (!FORMS.includes('template')) {
  console.error(`no content in ${CONTENT_DIR}: run bash scripts/setup.sh first`);
  process.exit(2);
}
const SEGMENT_FILE = /\.(m4s|mp4|webm|jpg)$/;

// --- the run -------------------------------------------------------------------------------

const figures = {
  seed: SEED,
  minutes: MINUTES,
  downloads: DOWNLOADS,
  maxActive: MAX_ACTIVE,
  baseDelayMs: BASE_DELAY_MS,
  forms: [...new Set(FORMS)],
  operations: {download: 0, pause: 0, resume: 0, remove: 0, kill: 0, 'fault-on': 0, 'fault-off': 0},
  refused: {},
  workerKills: 0,
  killsDuringCall: {},
  faultRules: {on: 0, off: 0, spent: 0, byLabel: {}},
  titles: {started: 0, removed: 0, completed: 0, failed: 0, verified: 0, played: 0},
  segmentsVerified: 0,
  bytesVerified: 0,
  orphans: {plans: 0, segments: 0, manifests: 0, licenses: 0},
  leftDownloading: [],
  removedNotGone: [],
  errorEvents: {},
  localRequestsReachingServer: 0,
  elapsedSeconds: {run: 0, settle: 0, checks: 0, total: 0},
  checks: {},
  failures: [],
  ops: [],
};
const t0 = Date.now();
const since = () => Number(((Date.now() - t0) / 1000).toFixed(1));
const log = (...a) => console.log(`[soak ${String(since()).padStart(6)} s]`, ...a);
const fail = (check, detail) => {
  figures.failures.push({check, ...detail});
  figures.checks[check] = 'FAIL';
  console.log(`  FAIL ${check}: ${JSON.stringify(detail)}`);
};
/** Records one operation in the log (and the console with --verbose). */
function record(op, id, detail = {}) {
  const line = {t: since(), op, ...(id ? {id} : {}), ...detail};
  figures.ops.push(line);
  if (argv.verbose) log(JSON.stringify(line));
  return line;
}

/** "key n, key n" counting `list` by `keyOf`. */
function countBy(list, keyOf) {
  const counts = new Map();
  for (const x of list) counts.set(keyOf(x), (counts.get(keyOf(x)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

const within = (promise, ms, what) =>
  Promise.race([promise, new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms))]);

console.log(
  `soak: seed ${SEED}, ${MINUTES} min, ${DOWNLOADS} downloads, at most ${MAX_ACTIVE} at once, base delay ${BASE_DELAY_MS} ms, forms ${figures.forms.join(' ')}`,
);
console.log(`      repeat with: node tests/soak/soak.mjs --minutes ${MINUTES} --downloads ${DOWNLOADS} --seed ${SEED}`);

const servers = await startServers();
const proxy = await startFaultProxy({target: () => servers.media.url});
const engine = await openEngine('chromium');
const page = await engine.newPage(`${servers.app.url}/pages/core.html`);
await page.evaluate(() => window.setup());

/** An OfflineManager call in the page: {ok, value} or {ok: false, code, message}. */
async function om(method, ...args) {
  try {
    return await within(page.evaluate(callOm, {method, args}), CALL_TIMEOUT_MS, `${method}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
  } catch (e) {
    return {ok: false, code: 'hang', message: String(e.message ?? e)};
  }
}

// Titles: soak-001... each downloaded once (a removed one is gone for good).
const titles = Array.from({length: DOWNLOADS}, (_, i) => {
  const form = pick(FORMS);
  const id = `soak-${String(i + 1).padStart(3, '0')}`;
  return {
    id,
    form,
    manifest: `${proxy.url}/content/${form}/manifest.mpd`,
    poster: random() < 0.3 ? `${proxy.url}/content/poster.jpg` : null,
    options: {bitrate: pick([400000, 1200000]), ...(random() < 0.4 ? {concurrency: pick([1, 2, 6])} : {})},
    status: 'new', // new | prepared (download refused, try again) | started | removed
    history: [],
  };
});
const titleOf = new Map(titles.map((t) => [t.id, t]));

/** The base network delay stays the last rule (the first live matching rule wins). */
const baseSpec = {match: SEGMENT_FILE, action: 'delay', delayMs: BASE_DELAY_MS};
let baseRule = BASE_DELAY_MS > 0 ? proxy.addRule(baseSpec) : null;
const faults = []; // {label, rule}

function faultOn() {
  const {label, ...spec} = randomFault();
  if (baseRule) proxy.removeRule(baseRule);
  const rule = proxy.addRule(spec);
  if (BASE_DELAY_MS > 0) baseRule = proxy.addRule(baseSpec);
  faults.push({label, rule});
  figures.faultRules.on += 1;
  figures.faultRules.byLabel[label] = (figures.faultRules.byLabel[label] ?? 0) + 1;
  return label;
}
function faultOff(fault) {
  proxy.removeRule(fault.rule);
  faults.splice(faults.indexOf(fault), 1);
  figures.faultRules.off += 1;
}
function pruneSpent() {
  for (const f of [...faults]) {
    if (f.rule.hits >= f.rule.times) {
      proxy.removeRule(f.rule);
      faults.splice(faults.indexOf(f), 1);
      figures.faultRules.spent += 1;
      record('fault-spent', null, {label: f.label, hits: f.rule.hits});
    }
  }
}

/** getAllDownloads as a Map id -> summary (null when the call failed). */
async function listing() {
  const r = await om('getAllDownloads');
  if (!r.ok) {
    record('list-failed', null, {code: r.code, message: r.message});
    return null;
  }
  return new Map(r.value.map((e) => [e.id, e]));
}

function refused(op, r) {
  const key = String(r.code);
  figures.refused[op] ??= {};
  figures.refused[op][key] = (figures.refused[op][key] ?? 0) + 1;
}

/** Stops the page's service workers now (CDP ServiceWorker.stopAllWorkers). */
async function kill() {
  await engine.stopWorkers(page);
  figures.workerKills += 1;
}

/**
 * Runs one user action on `title` (or none) and logs it with its outcome. With `killAfterMs`,
 * the worker is also stopped that long after the call went out: the browser stops workers
 * whenever it likes, a command half done included.
 */
async function act(op, title, fn, {killAfterMs} = {}) {
  figures.operations[op] += 1;
  let killed = null;
  if (killAfterMs !== undefined) {
    figures.killsDuringCall[op] = (figures.killsDuringCall[op] ?? 0) + 1;
    killed = sleep(killAfterMs).then(kill);
  }
  const r = await fn();
  await killed;
  const outcome = r.ok ? {ok: true, ...(r.state ? {state: r.state} : {})} : {ok: false, code: r.code, message: r.message};
  const line = record(op, title?.id, {...(killAfterMs !== undefined ? {killAfterMs} : {}), ...outcome});
  title?.history.push(line);
  if (!r.ok) refused(op, r);
  return r;
}
/** For a user action of the run: a kill during it, 15 % of the time (drawn here, in RNG order). */
const maybeKill = () => (random() < 0.15 ? {killAfterMs: between(0, 400)} : {});

async function startTitle(title, during = {}) {
  return act(
    'download',
    title,
    async () => {
      const config = {entryId: title.id, sources: {dash: [{url: title.manifest}]}, metadata: {name: title.id}, ...(title.poster ? {poster: title.poster} : {})};
      const prepared = await om('getMediaConfig', config);
      if (!prepared.ok) return prepared;
      title.status = 'prepared';
      const r = await om('download', title.id, title.options);
      if (r.ok) {
        title.status = 'started';
        figures.titles.started += 1;
        return {ok: true, state: r.value.state};
      }
      return r;
    },
    during,
  );
}

/**
 * Follows what a call that timed out did after all: a download the worker started once the
 * page had given up on it, or a removal that happened. Any other entry gone is 'vanished' (a
 * failure the entries check reports).
 */
function adopt(all) {
  for (const t of titles) {
    const seen = all.get(t.id);
    const state = seen ? `${seen.state}${seen.stopReason ? `/${seen.stopReason}` : ''}` : null;
    if (state && state !== t.lastState) {
      t.history.push({t: since(), seen: state, progress: seen.progress});
      // Nothing in the soak takes stored data away: a title found evicted lost it some other way.
      if (state === 'failed/evicted') {
        t.evicted = (t.evicted ?? 0) + 1;
        record('seen-evicted', t.id, {progress: seen.progress});
      }
    }
    t.lastState = state;
    if (t.status === 'prepared' && all.has(t.id) && all.get(t.id).state !== 'prepared') {
      t.status = 'started';
      figures.titles.started += 1;
      t.history.push(record('adopted', t.id, {state: all.get(t.id).state}));
    }
    if (t.status === 'started' && !all.has(t.id)) {
      t.status = t.removeAttempted ? 'removed' : 'vanished';
      if (t.removeAttempted) figures.titles.removed += 1;
      t.history.push(record(t.status === 'removed' ? 'removed-late' : 'vanished', t.id));
    }
  }
}

const RUN_MS = MINUTES * 60_000;
let trims = 0;
let lastStatus = Date.now();
log(`run: ${DOWNLOADS} titles (${countBy(titles, (t) => t.form)})`);
while (Date.now() - t0 < RUN_MS) {
  await sleep(between(400, 2500));
  pruneSpent();
  const all = await listing();
  if (!all) continue;
  const live = titles.filter((t) => t.status === 'started' && all.has(t.id));
  adopt(all);
  const inState = (...states) => live.filter((t) => states.includes(all.get(t.id).state));
  const downloading = inState('downloading');
  // Paused for the network: the worker resumes it by itself, so it counts as running.
  const active = downloading.length + inState('paused').filter((t) => all.get(t.id).stopReason === 'network').length;
  const stopped = live.filter((t) => ['paused', 'failed'].includes(all.get(t.id).state) && all.get(t.id).stopReason !== 'network');
  const fresh = titles.filter((t) => t.status === 'new' || t.status === 'prepared');
  // Keep up with the schedule: every title started by 80 % of the run.
  const due = Math.ceil((DOWNLOADS * (Date.now() - t0)) / (0.8 * RUN_MS));
  const behind = figures.titles.started < due;
  const removable = figures.titles.removed < 0.25 * Math.max(figures.titles.started, 4);
  const op = weighted({
    download: fresh.length > 0 && active < MAX_ACTIVE ? (behind ? 10 : active === 0 ? 2 : 0.2) : 0,
    pause: downloading.length > 0 ? 2 : 0,
    resume: stopped.length > 0 && active < MAX_ACTIVE ? (behind ? 1 : 3) : 0,
    remove: live.length > 0 && removable ? 0.6 : 0,
    kill: downloading.length > 0 ? 1.5 : 0.3,
    'fault-on': faults.length < 3 ? 1 : 0,
    'fault-off': faults.length > 0 ? 1 : 0,
  });
  if (op === 'download') {
    await startTitle(fresh.find((t) => t.status === 'prepared') ?? fresh[0], maybeKill());
  } else if (op === 'pause') {
    const t = pick(downloading);
    await act(
      'pause',
      t,
      async () => {
        const r = await om('pause', t.id);
        return r.ok ? {ok: true, state: r.value.state} : r;
      },
      maybeKill(),
    );
  } else if (op === 'resume') {
    const t = pick(stopped);
    await act(
      'resume',
      t,
      async () => {
        const r = await om('resume', t.id);
        return r.ok ? {ok: true, state: r.value.state} : r;
      },
      maybeKill(),
    );
  } else if (op === 'remove') {
    const t = pick(live);
    const was = all.get(t.id);
    await act(
      'remove',
      t,
      async () => {
        const r = await om('remove', t.id);
        if (!r.ok) t.removeAttempted = true;
        if (r.ok) {
          t.status = 'removed';
          t.removedWhile = `${was.state} ${was.progress}%`;
          figures.titles.removed += 1;
        }
        return r.ok ? {ok: true, state: `removed while ${t.removedWhile}`} : r;
      },
      maybeKill(),
    );
  } else if (op === 'kill') {
    await act('kill', null, async () => {
      await kill();
      return {ok: true, state: `${downloading.length} downloading`};
    });
  } else if (op === 'fault-on') {
    await act('fault-on', null, async () => ({ok: true, state: faultOn()}));
  } else if (op === 'fault-off') {
    const f = pick(faults);
    await act('fault-off', null, async () => {
      faultOff(f);
      return {ok: true, state: `${f.label} (${f.rule.hits} hits)`};
    });
  }
  if (++trims % 50 === 0) await page.evaluate(trimEvents);
  if (Date.now() - lastStatus > 30_000) {
    lastStatus = Date.now();
    const states = countBy([...all.values()], (e) => `${e.state}${e.stopReason ? `/${e.stopReason}` : ''}`);
    log(
      `started ${figures.titles.started}/${DOWNLOADS}, removed ${figures.titles.removed}, kills ${figures.workerKills}, faults on ${faults.map((f) => f.label).join(' ') || '-'}; ${states}`,
    );
  }
}
figures.elapsedSeconds.run = since();

// --- settle: faults off, everything not completed or removed resumed and waited for ---------

log(`settle: faults off, resuming what is not completed (at most ${MAX_ACTIVE} at once, ${SETTLE_MS / 1000} s at most)`);
figures.faultRules.offAtSettle = faults.length;
proxy.clearRules();
proxy.releaseStalls();
faults.length = 0;
baseRule = null;
const settleStart = Date.now();
const lastProgress = new Map(); // id -> {progress, at}
let settled = null;
while (Date.now() - settleStart < SETTLE_MS) {
  const all = await listing();
  if (!all) {
    await sleep(1000);
    continue;
  }
  adopt(all);
  const live = titles.filter((t) => t.status === 'started' && all.has(t.id));
  const open = live.filter((t) => all.get(t.id).state !== 'completed');
  const fresh = titles.filter((t) => t.status === 'new' || t.status === 'prepared');
  if (open.length === 0 && fresh.length === 0) {
    settled = all;
    break;
  }
  for (const t of open) {
    const {progress} = all.get(t.id);
    if (lastProgress.get(t.id)?.progress !== progress) lastProgress.set(t.id, {progress, at: Date.now()});
  }
  let running = open.filter((t) => all.get(t.id).state === 'downloading').length;
  for (const t of open.filter((t) => all.get(t.id).state !== 'downloading')) {
    if (running >= MAX_ACTIVE) break;
    const r = await act('resume', t, async () => {
      const r = await om('resume', t.id);
      return r.ok ? {ok: true, state: r.value.state} : r;
    });
    if (r.ok) running += 1;
  }
  for (const t of fresh) {
    if (running >= MAX_ACTIVE) break;
    const r = await startTitle(t);
    if (r.ok) running += 1;
  }
  await sleep(1000);
}
figures.elapsedSeconds.settle = Number(((Date.now() - settleStart) / 1000).toFixed(1));
const final = settled ?? (await listing()) ?? new Map();
if (!settled) {
  const open = [...final.values()].filter((e) => e.state !== 'completed');
  fail('settle', {
    why: `${open.length} entries not completed ${SETTLE_MS / 1000} s after the faults went off`,
    entries: open.map((e) => ({
      id: e.id,
      state: e.state,
      stopReason: e.stopReason,
      progress: e.progress,
      noProgressForSeconds: Math.round((Date.now() - (lastProgress.get(e.id)?.at ?? settleStart)) / 1000),
    })),
  });
}

// --- checks --------------------------------------------------------------------------------

const checksStart = Date.now();
log('checks: entries, leaks, bytes, offline playback');
figures.titles.completed = [...final.values()].filter((e) => e.state === 'completed').length;
figures.titles.failed = [...final.values()].filter((e) => e.state === 'failed').length;

// The worker's list is exactly the titles started and not removed.
{
  const expected = titles.filter((t) => t.status === 'started').map((t) => t.id);
  const listed = [...final.keys()].filter((id) => titleOf.has(id));
  const missing = expected.filter((id) => !final.has(id));
  const extra = listed.filter((id) => titleOf.get(id).status !== 'started');
  const vanished = titles.filter((t) => t.status === 'vanished').map((t) => t.id);
  if (missing.length || extra.length || vanished.length) fail('entries', {missing, extra, vanished});
  else figures.checks.entries = 'ok';
}

// Leaks: every record belongs to an entry record; nothing left downloading; removed titles gone.
const scan = await page.evaluate(scanStores);
{
  const known = new Set(scan.entries.map((e) => e.id));
  const orphans = {};
  for (const [store, byEntry] of Object.entries(scan.counts)) {
    for (const [id, n] of Object.entries(byEntry)) {
      if (known.has(id)) continue;
      figures.orphans[store] = (figures.orphans[store] ?? 0) + n;
      orphans[id] = {...orphans[id], [store]: n};
    }
  }
  figures.leftDownloading = scan.entries.filter((e) => e.state === 'downloading').map((e) => e.id);
  figures.removedNotGone = titles
    .filter((t) => t.status === 'removed')
    .filter((t) => known.has(t.id) || Object.values(scan.counts).some((byEntry) => byEntry[t.id]))
    .map((t) => ({
      id: t.id,
      entry: known.has(t.id),
      ...Object.fromEntries(Object.entries(scan.counts).map(([s, byEntry]) => [s, byEntry[t.id] ?? 0])),
    }));
  if (Object.keys(orphans).length) {
    fail('orphans', {
      records: orphans,
      history: Object.fromEntries(Object.keys(orphans).map((id) => [id, titleOf.get(id)?.history ?? 'not a soak title'])),
    });
  } else figures.checks.orphans = 'ok';
  if (figures.leftDownloading.length) fail('left-downloading', {ids: figures.leftDownloading});
  else figures.checks['left-downloading'] = 'ok';
  if (figures.removedNotGone.length) {
    fail('removed-gone', {
      left: figures.removedNotGone,
      history: Object.fromEntries(figures.removedNotGone.map((r) => [r.id, titleOf.get(r.id).history])),
    });
  } else figures.checks['removed-gone'] = 'ok';
}

// Bytes: every stored segment (chunks joined) is the origin's, from its planned source; a
// completed title has all of its plan.
{
  const bad = await verifyBytes({page, entries: scan.entries, final, titleOf, figures});
  if (bad.length) fail('bytes', {entries: bad});
  else figures.checks.bytes = 'ok';
}

// Offline playback of every completed title in shaka-player, answered by the worker alone.
{
  const completed = [...final.values()].filter((e) => e.state === 'completed').map((e) => e.id);
  const urls = await page.evaluate(localUrls, completed);
  await servers.media.stop();
  await proxy.stop();
  await page.setOffline(true);
  servers.app.requests.length = 0;
  const bad = [];
  for (const id of completed) {
    const {url, code, message} = urls[id];
    if (!url) {
      bad.push({id, code, message});
      continue;
    }
    const played = await within(
      page.evaluate(({url, seconds}) => window.playFor('shaka', url, seconds, {limitMs: 20000}), {url, seconds: PLAY_SECONDS}),
      60_000,
      `playFor ${id}`,
    ).catch((err) => ({currentTime: 0, errors: [String(err.message ?? err)], videoError: null}));
    if (played.errors.length === 0 && played.videoError === null && played.currentTime > PLAY_SECONDS) figures.titles.played += 1;
    else bad.push({id, form: titleOf.get(id)?.form, ...played});
  }
  figures.localRequestsReachingServer = servers.app.requests.filter((r) => r.url.includes('/__offline__/')).length;
  if (bad.length) fail('playback', {titles: bad});
  else figures.checks.playback = 'ok';
  if (figures.localRequestsReachingServer) fail('worker-answered', {localRequestsReachingServer: figures.localRequestsReachingServer});
  else figures.checks['worker-answered'] = 'ok';
}

const errors = await page.evaluate(errorEvents);
for (const {code} of errors) figures.errorEvents[code] = (figures.errorEvents[code] ?? 0) + 1;
figures.errors = errors;
{
  const evicted = titles.filter((t) => t.evicted);
  if (evicted.length) {
    fail('no-eviction', {
      why: 'titles became failed/evicted though nothing took stored data away',
      titles: evicted.map((t) => ({id: t.id, form: t.form, options: t.options, errors: errors.filter((e) => e.entryId === t.id), history: t.history})),
    });
  } else figures.checks['no-eviction'] = 'ok';
}
figures.titleHistories = Object.fromEntries(
  titles.map((t) => [t.id, {form: t.form, options: t.options, poster: Boolean(t.poster), status: t.status, history: t.history}]),
);
if (figures.titles.started + titles.filter((t) => t.status === 'new' || t.status === 'prepared').length !== DOWNLOADS) {
  fail('all-started', {started: figures.titles.started});
}

await page.close().catch(() => {});
await engine.close();
await servers.app.stop();

figures.elapsedSeconds.checks = Number(((Date.now() - checksStart) / 1000).toFixed(1));
figures.elapsedSeconds.total = since();
fs.mkdirSync(path.dirname(OUT), {recursive: true});
fs.writeFileSync(OUT, `${JSON.stringify(figures, null, 1)}\n`);

const kv = (o) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(', ');
console.log(`
soak figures (seed ${SEED})
  operations       ${kv(figures.operations)}
  refused          ${kv(figures.refused) || '-'}
  worker kills     ${figures.workerKills} (during a call: ${kv(figures.killsDuringCall) || '-'})
  fault rules      on ${figures.faultRules.on}, off ${figures.faultRules.off}, spent ${figures.faultRules.spent}, off at the end ${figures.faultRules.offAtSettle}
                   ${kv(figures.faultRules.byLabel)}
  titles           ${kv(figures.titles)}
  bytes verified   ${figures.bytesVerified} in ${figures.segmentsVerified} segments
  orphans          ${kv(figures.orphans)}
  left downloading ${figures.leftDownloading.length}; removed not gone ${figures.removedNotGone.length}
  error events     ${kv(figures.errorEvents) || '-'}
  elapsed          ${kv(figures.elapsedSeconds)} (s)
  checks           ${kv(figures.checks)}
  written to       ${path.relative(ROOT, OUT)}`);
if (figures.failures.length) {
  console.log(`\nFAILED: ${[...new Set(figures.failures.map((f) => f.check))].join(', ')} (details and the operation log in ${path.relative(ROOT, OUT)})`);
  process.exit(1);
}
console.log('\nall checks passed');
process.exit(0);
