// @ts-check
// The worker's requests and segment records, built in JS for the wasm (sw/src/net.rs,
// sw/src/idb.rs call these globals; scripts/build.sh puts this file between the generated
// constants and bootstrap.js). A segment costs the wasm one call and one promise here, where
// building the Request, its headers, two timer closures and three promises from Rust cost about
// twenty calls across the boundary a segment (CPU profile of the worker over the 220 MB
// benchmark download: ~100 ms of its ~580 ms busy time).
'use strict';

/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24 days). */
const OM_LONGEST_TIMER_MS = 0x7fffffff;

/**
 * `promise`, or null once `ms` passed first: the one timeout race of the worker's requests
 * (sw/src/net.rs awaits the whole bodies it reads through it). `promise` must not resolve to
 * null itself.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T | null>}
 */
function omWithin(promise, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(resolve, ms, null);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The response's bytes cannot be read or checked: an opaque response or opaque redirect.
 * @param {Response} response
 * @returns {boolean}
 */
function omOpaque(response) {
  return response.type === 'opaque' || response.type === 'opaqueredirect';
}

/**
 * Sends a GET the way every request of the worker goes: CORS, never from or into the HTTP cache
 * (the bytes go to IndexedDB: caching them too would write a film twice and evict the user's
 * other cached data), with `range` ("bytes=a-b") as its Range header when given. Resolves to the
 * Response, or to null when its headers took longer than `headersMs`; rejects as fetch does.
 * @param {string} url
 * @param {string | undefined} range
 * @param {AbortSignal | undefined} signal
 * @param {number} headersMs
 * @returns {Promise<Response | null>}
 */
function omSend(url, range, signal, headersMs) {
  /** @type {RequestInit} */
  const init = { mode: 'cors', cache: 'no-store' };
  if (range !== undefined) init.headers = { Range: range };
  if (signal !== undefined) init.signal = signal;
  return omWithin(fetch(url, init), headersMs);
}

/**
 * A segment request (`omSend`) and its body read into a Blob (the bytes stay in the browser's
 * blob storage; reading them in JS or wasm costs 25-40 % of the throughput). The body must
 * arrive within `graceMs` plus its expected size (Content-Length, else `expectedBytes`) ÷
 * `bytesPerMs`: `Response.blob()` reports no progress, so a stalled body is noticed by this
 * deadline, which the caller adapts to the network (sw/src/net.rs `body_deadline_ms`).
 * Resolves to what the caller checks; `late` says which deadline passed (0: none).
 * @param {string} url
 * @param {string | undefined} range
 * @param {AbortSignal | undefined} signal
 * @param {number} graceMs
 * @param {number} bytesPerMs
 * @param {number} expectedBytes
 * @returns {Promise<OmFetchedSegment>}
 */
// biome-ignore lint/correctness/noUnusedVariables: called by the wasm (sw/src/net.rs)
async function omFetchSegment(url, range, signal, graceMs, bytesPerMs, expectedBytes) {
  const response = await omSend(url, range, signal, graceMs);
  /** @type {OmFetchedSegment} */
  const out = {
    late: 0,
    status: 0,
    ok: false,
    opaque: false,
    url: '',
    contentLength: null,
    contentEncoding: null,
    contentType: null,
    blob: null,
    deadlineMs: 0,
    elapsedMs: 0,
  };
  if (response === null) {
    out.late = 1;
    return out;
  }
  out.status = response.status;
  out.ok = response.ok;
  out.opaque = omOpaque(response);
  out.url = response.url;
  if (out.opaque || !response.ok) return out;
  const headers = response.headers;
  out.contentLength = headers.get('Content-Length');
  out.contentEncoding = headers.get('Content-Encoding');
  out.contentType = headers.get('Content-Type');
  // Content-Length is 1*DIGIT (RFC 9110); any other value leaves the expected size.
  const declared = out.contentLength?.trim() ?? '';
  const bytes = /^\d+$/.test(declared) ? Number(declared) : expectedBytes;
  // setTimeout takes a 32-bit signed delay: a longer one (a lying Content-Length on a slow
  // link) would fire at once.
  out.deadlineMs = Math.min(graceMs + bytes / bytesPerMs, OM_LONGEST_TIMER_MS);
  const started = Date.now();
  const blob = await omWithin(response.blob(), out.deadlineMs);
  out.elapsedMs = Date.now() - started;
  if (blob === null) out.late = 2;
  out.blob = blob;
  return out;
}

/**
 * One `segments` record (the layout is crates/engine/src/layout.rs's: OM_LAYOUT): its bytes
 * as a Blob, or as an ArrayBuffer where IndexedDB refuses Blobs. `rangeStart` is -1 for a
 * segment fetched without a byte range.
 * @param {string} entryId
 * @param {string} track
 * @param {number} index
 * @param {number} chunk
 * @param {number} chunks
 * @param {Blob} blob the bytes; their size and type are the record's
 * @param {ArrayBuffer | undefined} bytes the same bytes, stored instead of `blob` when given
 * @param {string} url
 * @param {number} rangeStart
 * @param {number} rangeEnd
 * @returns {Record<string, unknown>}
 */
// biome-ignore lint/correctness/noUnusedVariables: called by the wasm (sw/src/idb.rs)
function omSegmentRecord(entryId, track, index, chunk, chunks, blob, bytes, url, rangeStart, rangeEnd) {
  const field = OM_LAYOUT.segmentRecord;
  return {
    [field.entryId]: entryId,
    [field.track]: track,
    [field.index]: index,
    [field.chunk]: chunk,
    [field.chunks]: chunks,
    [bytes === undefined ? field.blob : field.bytes]: bytes === undefined ? blob : bytes,
    [field.size]: blob.size,
    [field.type]: blob.type,
    [field.url]: url,
    [field.range]: rangeStart < 0 ? null : [rangeStart, rangeEnd],
  };
}
