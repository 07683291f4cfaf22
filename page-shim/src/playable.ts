// Which of a manifest's audio/video types this browser plays. Only the page can ask MSE (workers
// have no MediaSource), so the shim probes the types the worker lists and hands the answer to the
// download as `playable`: the worker then never stores a representation no player here could
// start (a dual-track LCEVC stream's `lvc1` layer in a browser without an LCEVC decoder, say).

import type { MediaType } from './protocol.js';

/** The part of `MediaSource` (or `ManagedMediaSource`) the probe uses. */
interface TypeProbe {
  isTypeSupported(type: string): boolean;
}

/**
 * This page's MSE: `MediaSource`, else `ManagedMediaSource` (Safari on iOS has only that one),
 * else none (then nothing is known about the browser and the worker keeps its own rules).
 */
export function mediaSource(): TypeProbe | undefined {
  const g = globalThis as { MediaSource?: Partial<TypeProbe>; ManagedMediaSource?: Partial<TypeProbe> };
  for (const candidate of [g.MediaSource, g.ManagedMediaSource]) {
    if (candidate && typeof candidate.isTypeSupported === 'function') return candidate as TypeProbe;
  }
  return undefined;
}

/** The MSE type string of a media type; the MIME type alone when it names no codecs. */
export function mseType(t: MediaType): string {
  return t.codecs.trim() === '' ? t.mimeType : `${t.mimeType}; codecs="${t.codecs}"`;
}

/**
 * The types this browser's MSE plays, in the order given; `undefined` where the page has no MSE
 * or the worker listed no types (an answer without `mediaTypes`): then no `playable` option is
 * sent. A probe that throws counts as "not supported". A type that names no codecs is kept
 * unasked: MSE refuses a bare `audio/mp4` (Chromium does), while players guess such codecs
 * from the segments, so the worker's own rules decide as before.
 */
export function playableTypes(types: unknown, probe: TypeProbe | undefined = mediaSource()): MediaType[] | undefined {
  if (!probe || !Array.isArray(types)) return undefined;
  const listed = types.filter((t): t is MediaType => typeof t === 'object' && t !== null && typeof t.mimeType === 'string' && typeof t.codecs === 'string');
  return listed
    .filter((t) => {
      if (t.codecs.trim() === '') return true;
      try {
        return probe.isTypeSupported(mseType(t));
      } catch {
        return false;
      }
    })
    .map((t) => ({ mimeType: t.mimeType, codecs: t.codecs }));
}
