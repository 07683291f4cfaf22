// Computes the download plan of a DASH manifest with shaka-player's own DASH parser, in the
// same record format as `dash-plan --all`:
//   {period, track, kind: 'init'|'media', url, range: [start, end]|null, start, end}
//
// How it works
// - shaka-player's debug build is loaded in a vm context with a `file:` scheme that honours
//   Range and no network (shaka-load.mjs).
// - `new shaka.dash.DashParser()` is configured with
//   `shaka.util.PlayerConfiguration.createDefault().manifest` and started with a minimal
//   player interface whose `filter` keeps everything (the parser itself does no codec
//   filtering; that is the Player's job, which we do not run).
// - Dynamic manifests are refused exactly like shaka.offline.Storage does:
//   `presentationTimeline.isDynamic()` -> shaka.util.Error CANNOT_STORE_LIVE_OFFLINE (9005).
//
// Period attribution: DashParser parses every Period into its own streams and then hands the
// list to shaka.util.PeriodCombiner#combinePeriods, which flattens them into period-spanning
// streams. We wrap combinePeriods (an exported method) to capture its `periods` argument, and
// read the segment references from the per-period streams (each has its own createSegmentIndex),
// so every record is attributed to exactly one (Period, Representation), like dash-plan. The
// flattened streams are not used. `period` is Period@id, or the Period's index when it has no
// @id (shaka then names it `__shaka_period_<start>`).
//
// Streams covered: every period's videoStreams, audioStreams, textStreams and imageStreams,
// plus trick-mode video streams that shaka hangs off a main video stream (stream.trickModeVideo).
// The track is stream.originalId (the Representation@id).
//
// References are enumerated with segmentIndex.forEachTopLevelReference (all top-level
// references in order; LL partial references are not expanded, DASH static content has none).
// `end` is shaka's SegmentReference.endTime. For the last segment of a representation in a
// Period, shaka sets it to the Period end (clamping, or stretching when the segments stop short
// of it: TimelineSegmentIndex#get for SegmentTimeline, SegmentIndex#fit for SegmentList and
// SegmentBase). When shaka knows the untouched end (trueEndTime, SegmentTimeline only) it is kept
// in the non-enumerable property `trueEnd` of the record, for reports.
//
// Refusals are thrown as an Error whose message names the shaka error (and .code is its number):
// dynamic manifests (9005, as shaka.offline.Storage), manifests without any variant (4036
// NO_VARIANTS, as shaka.media.PreloadManager), and whatever DashParser itself throws.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeShakaError, loadShakaBuild, manifestPlayerInterface, SHAKA_DEBUG_JS } from './shaka-load.mjs';

let loaded = null;

/** Loads shaka's debug build once, capturing the streams of each period, and returns {shaka, ctx}. */
function loadShaka() {
  if (loaded) return loaded;
  const { shaka, ctx } = loadShakaBuild(SHAKA_DEBUG_JS);
  // Capture the per-period streams handed to the period combiner (see header comment).
  const proto = shaka.util.PeriodCombiner.prototype;
  const original = proto.combinePeriods;
  proto.combinePeriods = function (periods, isDynamic, isPatchUpdate) {
    if (captureTarget) captureTarget.push(...periods);
    return original.call(this, periods, isDynamic, isPatchUpdate);
  };

  loaded = { shaka, ctx };
  return loaded;
}

// combinePeriods is patched on the prototype, so shakaPlan calls are serialised.
let captureTarget = null;
let queue = Promise.resolve();

/**
 * Returns the plan records of every representation of every period, computed by shaka.
 * Throws (an Error with .code = shaka error code and .shakaError) when shaka refuses it.
 */
export function shakaPlan(mpdPath) {
  const run = queue.then(() => shakaPlanNow(mpdPath));
  queue = run.catch(() => {});
  return run;
}

async function shakaPlanNow(mpdPath) {
  const { shaka } = loadShaka();
  const uri = pathToFileURL(path.resolve(mpdPath)).href;
  const config = shaka.util.PlayerConfiguration.createDefault();
  // Local files either load or not: no retries with back-off delays.
  // (Objects handed to shaka must belong to its realm: shaka.util.ObjectUtils.cloneObject turns
  // objects whose constructor is not its own Object into null.)
  const noRetry = shaka.net.NetworkingEngine.defaultRetryParameters();
  noRetry.maxAttempts = 1;
  noRetry.baseDelay = 0;
  config.manifest.retryParameters = noRetry;
  const netEngine = new shaka.net.NetworkingEngine();
  netEngine.configure(config.networking);
  const errors = [];
  const playerInterface = manifestPlayerInterface(netEngine, noRetry, errors);
  const parser = new shaka.dash.DashParser();
  parser.configure(config.manifest);
  const periods = [];
  captureTarget = periods;
  let manifest;
  try {
    manifest = await parser.start(uri, playerInterface);
  } catch (e) {
    await parser.stop();
    throw wrap(e, shaka);
  } finally {
    captureTarget = null;
  }
  try {
    if (manifest.presentationTimeline.isDynamic()) {
      // What shaka.offline.Storage#store does for live manifests.
      throw new shaka.util.Error(shaka.util.Error.Severity.CRITICAL, shaka.util.Error.Category.STORAGE, shaka.util.Error.Code.CANNOT_STORE_LIVE_OFFLINE, uri);
    }
    if (errors.length) throw errors[0];
    // What shaka.media.PreloadManager does when a manifest has nothing to play.
    if (manifest.variants.length === 0) {
      throw new shaka.util.Error(shaka.util.Error.Severity.CRITICAL, shaka.util.Error.Category.MANIFEST, shaka.util.Error.Code.NO_VARIANTS);
    }
    const records = [];
    const seenStreams = new Set();
    for (let pi = 0; pi < periods.length; pi++) {
      const period = periods[pi];
      const pid = period.id && !String(period.id).startsWith('__shaka_period_') ? String(period.id) : String(pi);
      const streams = [];
      const add = (s) => {
        if (!s || seenStreams.has(s)) return;
        seenStreams.add(s);
        streams.push(s);
        if (s.trickModeVideo) add(s.trickModeVideo);
      };
      for (const s of period.videoStreams || []) add(s);
      for (const s of period.audioStreams || []) add(s);
      for (const s of period.textStreams || []) add(s);
      for (const s of period.imageStreams || []) add(s);
      for (const stream of streams) {
        records.push(...(await streamRecords(stream, pid)));
      }
    }
    return records;
  } catch (e) {
    throw wrap(e, shaka);
  } finally {
    await parser.stop();
  }
}

async function streamRecords(stream, pid) {
  const track = stream.originalId == null ? null : String(stream.originalId);
  await stream.createSegmentIndex();
  const index = stream.segmentIndex;
  const refs = [];
  if (index) index.forEachTopLevelReference((r) => refs.push(r));
  const inits = [];
  const media = [];
  for (const ref of refs) {
    const init = ref.initSegmentReference;
    if (init) {
      const rec = {
        period: pid,
        track,
        kind: 'init',
        url: init.getUris()[0] ?? null,
        range: byteRange(init.getStartByte(), init.getEndByte()),
        start: null,
        end: null,
      };
      if (!inits.some((i) => i.url === rec.url && sameRange(i.range, rec.range))) inits.push(rec);
    }
    const rec = {
      period: pid,
      track,
      kind: 'media',
      url: ref.getUris()[0] ?? null,
      range: byteRange(ref.getStartByte(), ref.getEndByte()),
      start: ref.startTime,
      end: ref.endTime,
    };
    if (typeof ref.trueEndTime === 'number' && ref.trueEndTime !== ref.endTime) {
      Object.defineProperty(rec, 'trueEnd', { value: ref.trueEndTime, enumerable: false });
    }
    media.push(rec);
  }
  return [...inits, ...media];
}

function byteRange(startByte, endByte) {
  if ((startByte === 0 || startByte == null) && endByte == null) return null;
  return [Number(startByte), endByte == null ? null : Number(endByte)];
}

function sameRange(a, b) {
  return a === b || (a && b && a[0] === b[0] && a[1] === b[1]);
}

function wrap(e, shaka) {
  const err = new Error(describeShakaError(e, shaka));
  if (e && typeof e.code === 'number') err.code = e.code;
  err.shakaError = e;
  return err;
}

/** Runs shakaPlan: {records} or {refused: message, code}. */
export async function shakaPlanResult(file) {
  try {
    return { records: await shakaPlan(file) };
  } catch (e) {
    return { refused: e.message, code: e.code ?? null };
  }
}

/** shaka's error code for a live manifest (shaka.offline.Storage: CANNOT_STORE_LIVE_OFFLINE). */
export const SHAKA_LIVE_CODE = 9005;
