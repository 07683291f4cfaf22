// What an app passes to the OfflineManager, checked before anything is sent to the worker: entry
// ids, download options, media configs. Each bad argument is a KalturaError saying what to pass.

import { createError, ErrorCode, type KalturaError } from './errors.js';
import { MAX_CONCURRENCY, MAX_ENTRY_ID_LENGTH, type DashSource, type DownloadOptions, type MediaConfig, type MediaSources } from './protocol.js';

type ArgCode = typeof ErrorCode.CANNOT_ADD_ITEM | typeof ErrorCode.ENTRY_DOES_NOT_EXIST;

/** Validates an entry id argument (a non-empty printable string of at most 256 characters; numbers are accepted as OTT asset ids). */
export function checkEntryId(value: unknown, method: string, code: ArgCode = ErrorCode.ENTRY_DOES_NOT_EXIST): string {
  const id = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  // Control characters (Unicode Cc), as the worker refuses them.
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ENTRY_ID_LENGTH || /\p{Cc}/u.test(id)) {
    throw createError(
      code,
      `${method} needs an entry id: a non-empty string of at most ${MAX_ENTRY_ID_LENGTH} printable characters (got ${JSON.stringify(value) ?? String(value)}); pass the id used with getMediaConfig`,
      {
        method,
      },
    );
  }
  return id;
}

/** Validates download options and keeps only the known, defined fields. */
export function checkDownloadOptions(options: unknown, entryId: string): DownloadOptions {
  if (options === undefined || options === null) return {};
  const bad = (what: string): never => {
    throw createError(
      ErrorCode.CANNOT_ADD_ITEM,
      `download options for entry ${entryId} are invalid: ${what}; see DownloadOptions (language, bitrate, audioLanguages, textLanguages, videoHeight, maxHeight, videoBitrate, thumbnails, codecs, redirectOrigins, concurrency, background)`,
      { entryId },
    );
  };
  if (typeof options !== 'object') return bad(`expected an object, got ${typeof options}`);
  const o = options as Record<string, unknown>;
  const given = (k: string): boolean => o[k] !== undefined && o[k] !== null;
  const out: DownloadOptions = {};
  if (given('language')) {
    if (typeof o.language !== 'string') bad('language must be a string such as "en"');
    else if (o.language !== '') out.language = o.language;
  }
  for (const k of ['bitrate', 'videoBitrate', 'videoHeight', 'maxHeight'] as const) {
    if (!given(k)) continue;
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(`${k} must be a positive number`);
    else out[k] = Math.round(v);
  }
  for (const k of ['audioLanguages', 'textLanguages', 'codecs', 'redirectOrigins'] as const) {
    if (!given(k)) continue;
    const v = o[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(`${k} must be an array of strings`);
    else out[k] = v.slice(0, 64) as string[];
  }
  if (given('concurrency')) {
    const c = o.concurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY) bad(`concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`);
    else out.concurrency = c;
  }
  for (const k of ['thumbnails', 'background'] as const) {
    if (!given(k)) continue;
    const v = o[k];
    if (typeof v !== 'boolean') bad(`${k} must be true or false`);
    else out[k] = v;
  }
  return out;
}

/** A JSON copy (drops functions and undefined), or 9010. */
export function jsonCopy<T>(value: T, entryId: string): T {
  try {
    return JSON.parse(JSON.stringify(value)) as T;
  } catch (e) {
    throw createError(
      ErrorCode.CANNOT_ADD_ITEM,
      `the media config of entry ${entryId} cannot be stored: it is not JSON-serialisable (${String(e)}); remove circular references and non-JSON values`,
      { entryId, cause: e },
    );
  }
}

export function dashOf(config: MediaConfig): DashSource[] {
  const dash = (config.sources as MediaSources | undefined)?.dash;
  return Array.isArray(dash) ? dash.filter((s) => typeof s === 'object' && s !== null && typeof s.url === 'string' && s.url !== '') : [];
}

export function noDash(config: MediaConfig, entryId: string): KalturaError {
  const s = (config.sources ?? {}) as MediaSources;
  const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
  return createError(
    ErrorCode.CONTENT_UNSUPPORTED_BY_BROWSER,
    `entry ${entryId} has no DASH source (sources has ${count(s.hls)} HLS and ${count(s.progressive)} progressive); only DASH can be stored offline: enable a DASH (mpegdash) delivery for the entry or pass a config with sources.dash[0].url`,
    { entryId },
  );
}
