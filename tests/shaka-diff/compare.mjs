// Runs dash-plan (crates/mpd) and compares its plans with shaka's (shaka-plan.mjs)
// representation by representation; shared by shaka-diff.test.mjs and run-report.mjs.

import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_DIR as REPO } from './shaka-load.mjs';
import { shakaPlanResult } from './shaka-plan.mjs';

export const DASH_PLAN = path.join(REPO, 'target/debug/dash-plan');
/** Times must agree to the millisecond; the extra 1e-9 absorbs float noise. */
export const TIME_TOLERANCE = 0.001 + 1e-9;

/** Builds target/debug/dash-plan (the planner may have changed since the last run). */
export function buildDashPlan() {
  execFileSync('cargo', ['build', '-q', '-p', 'mpd', '--bin', 'dash-plan'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Runs `dash-plan FILE --all`: {records} or {refused: message}. */
export function dashPlan(file) {
  const r = spawnSync(DASH_PLAN, [file, '--all'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    return { refused: (r.stderr || `exit ${r.status}`).trim().replace(/^dash-plan: /, '') };
  }
  const records = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { records };
}

/** Number of representations in a plan (see groupByTrack). */
export function countRepresentations(records) {
  let n = 0;
  for (const runs of groupByTrack(records).values()) n += runs.length;
  return n;
}

/**
 * Splits a plan into representations: runs of consecutive records with the same
 * (period, track). Returns Map key -> array of runs (more than one run when a Period reuses a
 * Representation@id in two AdaptationSets, which happens in the corpus).
 */
function groupByTrack(records) {
  const groups = new Map();
  let prevKey = null;
  for (const r of records) {
    const key = `${r.period} / ${r.track}`;
    if (!groups.has(key)) groups.set(key, []);
    const runs = groups.get(key);
    const current = runs[runs.length - 1];
    // A new representation starts when the key changes, or with an init segment after media
    // segments (two AdaptationSets of a Period reusing one Representation@id, back to back).
    if (key !== prevKey || !current || (r.kind === 'init' && current.some((x) => x.kind === 'media'))) {
      runs.push([]);
    }
    runs[runs.length - 1].push(r);
    prevKey = key;
  }
  return groups;
}

/** Pairs the runs of one key: same first URL (the init segment) first, then in order. */
function pairRuns(xs, ys) {
  const pairs = [];
  const restX = [...xs];
  const restY = [...ys];
  for (let i = 0; i < restX.length; i++) {
    const j = restY.findIndex((y) => y[0]?.url === restX[i][0]?.url);
    if (j >= 0) {
      pairs.push([restX[i], restY[j]]);
      restX.splice(i--, 1);
      restY.splice(j, 1);
    }
  }
  while (restX.length || restY.length) pairs.push([restX.shift() || null, restY.shift() || null]);
  return pairs;
}

function sameTime(a, b) {
  if (a == null || b == null) return a == null && b == null;
  return Math.abs(a - b) <= TIME_TOLERANCE;
}

function sameRangeValue(a, b) {
  if (a == null || b == null) return a == null && b == null;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Names of the fields in which two records differ ([] when equal). */
export function recordDiff(ours, theirs) {
  const fields = [];
  if (ours.kind !== theirs.kind) fields.push('kind');
  if (ours.url !== theirs.url) fields.push('url');
  if (!sameRangeValue(ours.range, theirs.range)) fields.push('range');
  if (!sameTime(ours.start, theirs.start)) fields.push('start');
  if (!sameTime(ours.end, theirs.end)) fields.push('end');
  return fields;
}

/**
 * Compares two plans per (period, representation). Returns one entry per representation that
 * differs, with the first differing record:
 *   {track, problem, index, fields, ours, shaka, oursCount, shakaCount}
 * problem is 'missing in dash-plan' | 'missing in shaka' | 'record' | 'count'.
 */
export function comparePlans(ours, theirs) {
  const a = groupByTrack(ours);
  const b = groupByTrack(theirs);
  const diffs = [];
  const keys = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  for (const key of keys) {
    const pairs = pairRuns(a.get(key) || [], b.get(key) || []);
    pairs.forEach(([x, y], n) => {
      const track = pairs.length > 1 ? `${key} (#${n + 1} of ${pairs.length} with this id)` : key;
      const base = { track, oursCount: x ? x.length : 0, shakaCount: y ? y.length : 0 };
      if (!x) {
        diffs.push({ ...base, problem: 'missing in dash-plan', index: 0, ours: null, shaka: y[0] });
        return;
      }
      if (!y) {
        diffs.push({ ...base, problem: 'missing in shaka', index: 0, ours: x[0], shaka: null });
        return;
      }
      const n2 = Math.min(x.length, y.length);
      for (let i = 0; i < n2; i++) {
        const fields = recordDiff(x[i], y[i]);
        if (fields.length) {
          diffs.push({ ...base, problem: 'record', index: i, fields, ours: x[i], shaka: y[i] });
          return;
        }
      }
      if (x.length !== y.length) {
        diffs.push({ ...base, problem: 'count', index: n2, ours: x[n2] ?? null, shaka: y[n2] ?? null });
      }
    });
  }
  return diffs;
}

function short(r, other) {
  if (!r) return 'nothing';
  // Long CDN URLs make reports unreadable: when both sides have the same URL, show its tail.
  let url = r.url;
  if (other && other.url === r.url) {
    const tail = r.url.split('/').pop();
    url = `.../${tail.length > 60 ? `...${tail.slice(-40)}` : tail}`;
  }
  const range = r.range ? ` [${r.range[0]}-${r.range[1]}]` : '';
  const times = r.kind === 'media' ? ` ${fmt(r.start)}..${fmt(r.end)}` : '';
  const trueEnd = r.trueEnd != null ? ` (untruncated end ${fmt(r.trueEnd)})` : '';
  return `${r.kind} ${url}${range}${times}${trueEnd}`;
}

function fmt(t) {
  return t == null ? 'null' : String(Math.round(t * 1e6) / 1e6);
}

/** One line describing a difference returned by comparePlans. */
export function describeDiff(d) {
  const counts = `${d.oursCount} records in dash-plan, ${d.shakaCount} in shaka`;
  switch (d.problem) {
    case 'missing in dash-plan':
      return `${d.track}: only shaka has it (${counts}); shaka's first: ${short(d.shaka)}`;
    case 'missing in shaka':
      return `${d.track}: only dash-plan has it (${counts}); ours first: ${short(d.ours)}`;
    case 'count':
      return `${d.track}: ${counts}; first extra at #${d.index}: dash-plan ${short(d.ours, d.shaka)} | shaka ${short(d.shaka, d.ours)}`;
    default:
      return `${d.track}: #${d.index}${d.index === d.oursCount - 1 ? ' (last)' : ''} ${d.fields.join('+')} differ (${counts}): dash-plan ${short(d.ours, d.shaka)} | shaka ${short(d.shaka, d.ours)}`;
  }
}

/**
 * Runs both planners on one manifest and classifies the outcome:
 *   {status: 'ok' | 'differs' | 'both-refuse' | 'refused-by-us' | 'refused-by-shaka',
 *    ours, shaka, diffs}
 */
export async function diffFile(file) {
  const ours = dashPlan(file);
  const shaka = await shakaPlanResult(file);
  if (ours.refused && shaka.refused) return { status: 'both-refuse', ours, shaka, diffs: [] };
  if (ours.refused) return { status: 'refused-by-us', ours, shaka, diffs: [] };
  if (shaka.refused) return { status: 'refused-by-shaka', ours, shaka, diffs: [] };
  const diffs = comparePlans(ours.records, shaka.records);
  return { status: diffs.length ? 'differs' : 'ok', ours, shaka, diffs };
}
