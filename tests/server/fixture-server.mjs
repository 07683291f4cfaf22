// Fixture media server for the tests and the demo: static DASH content with byte ranges and
// CORS, plus emulators of the Kaltura OVP API (multirequest + playManifest) and of the Kaltura
// OTT / TV (Phoenix) API, in the shapes recorded in shared/PLATFORM-FACTS.md ("Kaltura provider").
//
//   import {startMediaServer} from './fixture-server.mjs';
//   const media = await startMediaServer({contentDir: 'tests/.content'});
//   // media.url -> http://127.0.0.1:PORT ; serviceUrl for the OVP provider: `${media.url}/api_v3`,
//   // for the OTT (TV build) provider: `${media.url}/ott/api_v3` (OTT_SERVICE_PATH)
//   await media.stop();
//
// Node built-ins only. The generic pieces (listening with socket tracking, safe path
// resolution, content types, Range parsing, file sending) are exported for app-server.mjs.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';

// ---------------------------------------------------------------------------------------------
// Generic HTTP helpers
// ---------------------------------------------------------------------------------------------

const CONTENT_TYPES = {
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.vtt': 'text/vtt; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
};

/** Content-Type for a file name, by extension. */
export function contentTypeFor(file) {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Starts an http.Server on host:port (0 = any free port) that tracks its sockets, so that
 * stop() closes the listener AND destroys keep-alive connections: afterwards nothing answers.
 */
export async function startHttpServer(handler, {port = 0, host = '127.0.0.1'} = {}) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err) => failRequest(res, err));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopping = null;
  const stop = () => {
    stopping ??= new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return stopping;
  };
  return {server, port: actualPort, url: `http://${urlHost}:${actualPort}`, stop};
}

/** Answers 500 (or just drops the connection when headers are already out). */
function failRequest(res, err) {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  res.writeHead(500, {'Content-Type': 'text/plain; charset=utf-8'});
  res.end(`internal error: ${err?.message ?? err}\n`);
}

/** The request's path, without query, still percent-encoded and NOT normalised. */
export function rawPathOf(req) {
  const q = req.url.indexOf('?');
  return q === -1 ? req.url : req.url.slice(0, q);
}

/**
 * Resolves a percent-encoded relative path (`a/b%20c.mp4`) inside `root`.
 * Returns the absolute file path, or null for anything that could escape `root`
 * (`..` segments, encoded slashes/backslashes, NUL, bad escapes).
 */
export function resolveInside(root, encodedRelPath) {
  const parts = [];
  for (const raw of encodedRelPath.split('/')) {
    let part;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (part === '' || part === '.') continue;
    if (part === '..' || /[/\\\0]/.test(part)) return null;
    parts.push(part);
  }
  const base = path.resolve(root);
  const full = path.resolve(base, ...parts);
  return full === base || full.startsWith(base + path.sep) ? full : null;
}

/**
 * Parses a Range header against a resource of `size` bytes (RFC 9110 §14).
 * Returns null when the header is absent or malformed or asks for several ranges (the
 * caller then answers 200 with the whole body), {unsatisfiable: true} for 416, or
 * {start, end} (inclusive) for 206.
 */
export function parseRange(header, size) {
  if (typeof header !== 'string') return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // Suffix range: the last n bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return {unsatisfiable: true};
    return {start: Math.max(0, size - n), end: size - 1};
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return null; // invalid range-spec: ignore the header
  if (start >= size) return {unsatisfiable: true};
  return {start, end: Math.min(last, size - 1)};
}

/**
 * Sends a file with Content-Type, Content-Length, Accept-Ranges and (optionally) Range
 * support. `headers` are added to every answer (CORS, caching). Returns false when the
 * path is not a regular file (nothing sent).
 */
export async function sendFile(req, res, file, {headers = {}, ranges = true} = {}) {
  let stat;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  const size = stat.size;
  const base = {...headers, 'Content-Type': contentTypeFor(file)};
  if (ranges) base['Accept-Ranges'] = 'bytes';

  const range = ranges ? parseRange(req.headers.range, size) : null;
  if (range?.unsatisfiable) {
    res.writeHead(416, {...base, 'Content-Range': `bytes */${size}`, 'Content-Length': 0});
    res.end();
    return true;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  const status = range ? 206 : 200;
  const out = {...base, 'Content-Length': end - start + 1};
  if (range) out['Content-Range'] = `bytes ${start}-${end}/${size}`;
  if (size === 0) out['Content-Length'] = 0;
  res.writeHead(status, out);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return true;
  }
  await pipeline(fs.createReadStream(file, {start, end}), res).catch(() => res.destroy());
  return true;
}

/** Writes a small text answer. */
export function sendText(res, status, text, headers = {}) {
  res.writeHead(status, {...headers, 'Content-Type': 'text/plain; charset=utf-8'});
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Reads a request body as UTF-8 text (bounded). */
async function readBody(req, limit = 1 << 20) {
  const chunks = [];
  let total = 0;
  for await (const chunk of req) {
    total += chunk.length;
    if (total > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------------------------

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
};

function sendPreflight(req, res) {
  res.writeHead(204, {
    ...CORS,
    'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
    'Access-Control-Max-Age': '600',
    'Content-Length': 0,
  });
  res.end();
}

// ---------------------------------------------------------------------------------------------
// Kaltura OVP emulator
// ---------------------------------------------------------------------------------------------

export const DEFAULT_PARTNER_ID = 1234;

/** Default flavors: the two video renditions of tests/content/make-content.sh. */
const DEFAULT_FLAVORS = [
  {suffix: 'f360', bitrate: 400, width: 640, height: 360},
  {suffix: 'f720', bitrate: 1200, width: 1280, height: 720},
];

/**
 * Default entries: id -> {name, description, duration, manifest (path under contentDir)}.
 * An `entries` option of the same shape replaces them; optional per-entry fields:
 * `referenceId`, `flavorAssets` ([{id, bitrate, width, height, ...}]), `drm` ([{scheme, licenseURL}]).
 */
export const DEFAULT_ENTRIES = {
  '0_template': {
    name: 'Template sample',
    description: 'SegmentTemplate with @duration and $Number%05d$ (ffmpeg, 12 s)',
    duration: 12,
    manifest: 'template/manifest.mpd',
  },
  '0_timeline': {
    name: 'Timeline sample',
    description: 'SegmentTemplate with SegmentTimeline (ffmpeg, 12 s)',
    duration: 12,
    manifest: 'timeline/manifest.mpd',
  },
  '0_list': {
    name: 'SegmentList sample',
    description: 'SegmentList of byte ranges in one file per representation (ffmpeg, 12 s)',
    duration: 12,
    manifest: 'list/manifest.mpd',
  },
  '0_base': {
    name: 'SegmentBase sample',
    description: 'SegmentBase with a sidx index (ffmpeg, 12 s)',
    duration: 12,
    manifest: 'base/manifest.mpd',
  },
  // CENC (ClearKey) content. No `drm` here: Kaltura Player 3.17.95 maps no scheme string to
  // ClearKey and refuses a source whose drmData is ClearKey (7007), so apps give ClearKey through
  // the player config (tests/e2e/encrypted-online.test.mjs pins this).
  '0_encrypted': {
    name: 'Encrypted sample',
    description: 'CENC AES-CTR, ClearKey (tests/content/make-encrypted.sh, 12 s)',
    duration: 12,
    manifest: 'encrypted/manifest.mpd',
  },
};

function apiException(code, message, args = {}) {
  return {objectType: 'KalturaAPIException', code, message, args};
}

function entryNotFound(id) {
  return apiException('ENTRY_ID_NOT_FOUND', `Entry id "${id}" not found`, {ENTRY_ID: String(id)});
}

/** Walks `a:0:b` into a value; undefined when a step is missing. */
function walk(value, keys) {
  let cur = value;
  for (const key of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[key];
  }
  return cur;
}

const REFERENCE = /\{(\d+):result((?::[^:{}]*)*)\}/g;

/** Replaces `{N:result:path}` tokens in a string; a whole-string token keeps the raw type. */
function substituteString(text, results) {
  const lookup = (n, rawPath) => {
    const keys = rawPath ? rawPath.slice(1).split(':') : [];
    return walk(results[Number(n) - 1], keys);
  };
  const whole = /^\{(\d+):result((?::[^:{}]*)*)\}$/.exec(text);
  if (whole) {
    const value = lookup(whole[1], whole[2]);
    return value === undefined ? text : value; // unresolved tokens stay visible
  }
  return text.replace(REFERENCE, (token, n, rawPath) => {
    const value = lookup(n, rawPath);
    return value === undefined || typeof value === 'object' ? token : String(value);
  });
}

/** Deeply resolves multirequest references inside an item against earlier results. */
export function resolveReferences(value, results) {
  if (typeof value === 'string') return substituteString(value, results);
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, results));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveReferences(v, results)]),
    );
  }
  return value;
}

/** The numbered items of a multirequest body, in order. */
function numberedItems(body) {
  return Object.keys(body)
    .filter((k) => /^[1-9]\d*$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => body[k]);
}

class KalturaEmulator {
  constructor({entries, partnerId}) {
    this.entries = entries;
    this.partnerId = partnerId;
    this.ksCounter = 0;
  }

  flavorsOf(id) {
    const entry = this.entries[id];
    if (entry.flavorAssets) return entry.flavorAssets;
    return DEFAULT_FLAVORS.map(({suffix, ...f}) => ({id: `${id}_${suffix}`, ...f}));
  }

  /** Runs every item of a multirequest body; returns the array of results. */
  multirequest(body, base) {
    const results = [];
    for (const item of numberedItems(body)) {
      const resolved = resolveReferences(item ?? {}, results);
      results.push(this.call(resolved, base));
    }
    return results;
  }

  /** Dispatches one `{service, action, ...params}` item. */
  call(item, base) {
    const service = String(item.service ?? '').toLowerCase();
    const action = String(item.action ?? '').toLowerCase();
    switch (`${service}.${action}`) {
      case 'session.startwidgetsession':
        return this.startWidgetSession(item);
      case 'baseentry.list':
        return this.listEntries(item, base);
      case 'baseentry.getplaybackcontext':
        return this.playbackContext(item, base);
      case 'metadata_metadata.list':
        return {objectType: 'KalturaMetadataListResponse', totalCount: 0, objects: []};
      default:
        return apiException(
          'SERVICE_FORBIDDEN',
          `The access to service [${item.service}->${item.action}] is forbidden`,
          {SERVICE: String(item.service), ACTION: String(item.action)},
        );
    }
  }

  startWidgetSession(item) {
    const fromWidget = /^_(\d+)$/.exec(String(item.widgetId ?? ''));
    const partnerId = fromWidget ? Number(fromWidget[1]) : this.partnerId;
    this.ksCounter += 1;
    const ks = Buffer.from(`v2|${partnerId}|emulator-widget-session|${this.ksCounter}`)
      .toString('base64');
    return {objectType: 'KalturaStartWidgetSessionResponse', ks, partnerId, userId: 0};
  }

  /** Entry ids selected by a KalturaBaseEntryFilter. */
  filterIds(filter = {}) {
    const one = filter.redirectFromEntryId ?? filter.idEqual;
    if (one !== undefined) return [String(one)];
    if (filter.idIn !== undefined) {
      return String(filter.idIn).split(',').map((s) => s.trim()).filter(Boolean);
    }
    if (filter.referenceIdEqual !== undefined) {
      return Object.keys(this.entries)
        .filter((id) => this.entries[id].referenceId === filter.referenceIdEqual);
    }
    return Object.keys(this.entries);
  }

  listEntries(item, base) {
    const objects = this.filterIds(item.filter)
      .filter((id) => Object.hasOwn(this.entries, id))
      .map((id) => this.mediaEntry(id, base));
    return {objectType: 'KalturaBaseEntryListResponse', totalCount: objects.length, objects};
  }

  mediaEntry(id, base) {
    const e = this.entries[id];
    return {
      objectType: 'KalturaMediaEntry',
      id,
      name: e.name ?? id,
      description: e.description ?? '',
      thumbnailUrl: e.thumbnailUrl ?? `${base}/content/poster.jpg`,
      duration: e.duration ?? 0,
      msDuration: (e.duration ?? 0) * 1000,
      mediaType: 1,
      type: 1,
      status: 2,
      dvrStatus: 0,
      tags: e.tags ?? '',
      referenceId: e.referenceId ?? '',
      partnerId: this.partnerId,
      flavorParamsIds: this.flavorsOf(id).map((_, i) => i).join(','),
      createdAt: 1700000000,
      updatedAt: 1700000000,
    };
  }

  playbackContext(item, base) {
    const id = String(item.entryId ?? '');
    if (!Object.hasOwn(this.entries, id)) return entryNotFound(id);
    const flavors = this.flavorsOf(id);
    const flavorIds = flavors.map((f) => f.id).join(',');
    const protocol = base.startsWith('https:') ? 'https' : 'http';
    const pid = this.partnerId;
    const url = `${base}/p/${pid}/sp/${pid}00/playManifest/entryId/${id}/protocol/${protocol}` +
      `/format/mpegdash/flavorIds/${flavorIds}/a.mpd`;
    return {
      objectType: 'KalturaPlaybackContext',
      sources: [{
        objectType: 'KalturaPlaybackSource',
        format: 'mpegdash',
        deliveryProfileId: 1,
        protocols: 'http,https',
        flavorIds,
        url,
        drm: this.entries[id].drm ?? [],
      }],
      flavorAssets: flavors.map((f) => ({
        objectType: 'KalturaFlavorAsset',
        fileExt: 'mp4',
        language: '',
        label: '',
        tags: '',
        isOriginal: false,
        status: 2,
        ...f,
      })),
      playbackCaptions: [],
      actions: [],
      messages: [],
    };
  }

  /** The content path a playManifest URL points at, or null. */
  manifestFor(pathname) {
    const m = /\/entryId\/([^/]+)\//.exec(pathname);
    const id = m && decodeURIComponent(m[1]);
    return id && Object.hasOwn(this.entries, id) ? this.entries[id].manifest : null;
  }
}

// ---------------------------------------------------------------------------------------------
// Kaltura OTT (TV / Phoenix) emulator
// ---------------------------------------------------------------------------------------------
//
// What the OTT provider of the TV build (kaltura-tv-player.js 3.17.95, providers 2.46) sends for
// getMediaConfig({entryId, ...}) without a ks: one POST of JSON to `{serviceUrl}/service/multirequest`
//   {apiVersion: "7.8.1", partnerId, [clientTag], [ks],
//    "1": {service: "ottuser", action: "anonymousLogin", partnerId, [udid]},
//    "2": {service: "asset", action: "get", id, assetReferenceType: "media", ks: "{1:result:ks}"},
//    "3": {service: "asset", action: "getPlaybackContext", assetId, assetType: "media",
//          contextDataParams: {objectType: "KalturaPlaybackContextOptions", context: "PLAYBACK",
//            [mediaProtocol], [assetFileIds], [streamerType], [urlType], [adapterData]},
//          ks: "{1:result:ks}"}}
// (with a ks, item 1 is dropped and the others carry that ks). Phoenix answers HTTP 200
// `{executionTime, result: [...]}`, one result per item; a failed item is
// `{error: {objectType: "KalturaAPIException", code, message}}`. The provider reads
// results[0].ks, then the asset (metas/tags are objects of {objectType, value} that it
// Object.keys; images become the poster) and the playback context (sources
// {id, type, format: "mpegdash", url, duration, protocols, drm}; `url` is used as is).
// The source URLs point at an assetFile.playManifest path that 302s to the stream MPD.

/** The OTT API lives under its own path so that the OVP one (`/api_v3`) is unaffected. */
export const OTT_SERVICE_PATH = '/ott/api_v3';

/**
 * Default OTT media assets: numeric id -> {name, description, duration, manifest}, the same four
 * streams as DEFAULT_ENTRIES (1001 template, 1002 timeline, 1003 list, 1004 base, 1005 encrypted). Optional
 * per-asset fields: `fileId` (default id * 10 + 1), `type` (file type, default "DASH_Main"),
 * `metas`/`tags` (Phoenix shape: {name: {objectType, value}}), `drm` ([{scheme, licenseURL}]).
 */
export const DEFAULT_OTT_ASSETS = Object.fromEntries(
  Object.values(DEFAULT_ENTRIES).map((entry, i) => [String(1001 + i), {...entry}]),
);

function ottException(code, message) {
  return {error: {objectType: 'KalturaAPIException', code: String(code), message}};
}

class OttEmulator {
  constructor({assets}) {
    this.assets = assets;
    this.ksCounter = 0;
  }

  fileIdOf(id) {
    return this.assets[id].fileId ?? Number(id) * 10 + 1;
  }

  /** Runs every item of a multirequest body; returns the array of results. */
  multirequest(body, base) {
    const results = [];
    for (const item of numberedItems(body)) {
      const resolved = resolveReferences(item ?? {}, results);
      results.push(this.call({...resolved, partnerId: resolved.partnerId ?? body.partnerId}, base));
    }
    return results;
  }

  call(item, base) {
    const service = String(item.service ?? '').toLowerCase();
    const action = String(item.action ?? '').toLowerCase();
    const key = `${service}.${action}`;
    if (key === 'ottuser.anonymouslogin') return this.anonymousLogin(item);
    if (key !== 'asset.get' && key !== 'asset.getplaybackcontext') {
      return ottException(500012, `Service [${item.service}] action [${item.action}] not found`);
    }
    if (typeof item.ks !== 'string' || item.ks === '' || item.ks.includes('{')) {
      return ottException(500016, 'KS not valid');
    }
    return key === 'asset.get' ? this.getAsset(item, base) : this.playbackContext(item, base);
  }

  anonymousLogin(item) {
    this.ksCounter += 1;
    const ks = Buffer.from(`v2|${item.partnerId ?? 0}|emulator-ott-anonymous|${this.ksCounter}`)
      .toString('base64');
    return {objectType: 'KalturaLoginSession', ks, expiry: 1900000000};
  }

  known(id) {
    return Object.hasOwn(this.assets, id);
  }

  assetNotFound(id) {
    return ottException(500007, `Asset ${id} does not exist`);
  }

  manifestUrl(id, base, partnerId) {
    return `${base}${OTT_SERVICE_PATH}/service/assetFile/action/playManifest/partnerId/${partnerId}` +
      `/assetId/${id}/assetType/media/assetFileId/${this.fileIdOf(id)}/contextType/PLAYBACK/a.mpd`;
  }

  getAsset(item, base) {
    const id = String(item.id ?? '');
    const referenceType = String(item.assetReferenceType ?? 'media');
    if (referenceType !== 'media') {
      return ottException(500003, `assetReferenceType ${referenceType} is not supported by the emulator`);
    }
    if (!this.known(id)) return this.assetNotFound(id);
    const a = this.assets[id];
    const fileType = a.type ?? 'DASH_Main';
    return {
      objectType: 'KalturaMediaAsset',
      id: Number(id),
      type: 0,
      name: a.name ?? id,
      description: a.description ?? '',
      images: [{
        objectType: 'KalturaMediaImage', ratio: '16:9', width: 640, height: 360,
        url: a.poster ?? `${base}/content/poster.jpg`, version: 0, id: `${id}_img`, isDefault: true,
      }],
      mediaFiles: [{
        objectType: 'KalturaMediaFile', assetId: Number(id), id: this.fileIdOf(id), type: fileType,
        url: this.manifestUrl(id, base, item.partnerId ?? 0), duration: a.duration ?? 0,
        externalId: '', fileSize: 0,
      }],
      metas: a.metas ?? {},
      tags: a.tags ?? {},
      startDate: 1700000000,
      endDate: 2000000000,
      createDate: 1700000000,
      updateDate: 1700000000,
      externalId: '',
      entryId: '',
      status: true,
    };
  }

  playbackContext(item, base) {
    const id = String(item.assetId ?? '');
    const assetType = String(item.assetType ?? 'media');
    if (assetType !== 'media') {
      return ottException(500003, `assetType ${assetType} is not supported by the emulator`);
    }
    if (!this.known(id)) return this.assetNotFound(id);
    const a = this.assets[id];
    const params = item.contextDataParams ?? {};
    const context = String(params.context ?? 'PLAYBACK');
    if (!['PLAYBACK', 'TRAILER', 'DOWNLOAD'].includes(context)) {
      return ottException(500003, `context ${context} is not supported for a media asset`);
    }
    const fileId = this.fileIdOf(id);
    const wanted = params.assetFileIds === undefined ? null
      : String(params.assetFileIds).split(',').map((s) => s.trim()).filter(Boolean);
    const protocol = params.mediaProtocol === undefined ? null : String(params.mediaProtocol);
    const sources = [{
      objectType: 'KalturaPlaybackSource',
      id: fileId,
      type: a.type ?? 'DASH_Main',
      url: this.manifestUrl(id, base, item.partnerId ?? 0),
      duration: a.duration ?? 0,
      externalId: '',
      fileSize: 0,
      protocols: 'http,https',
      format: 'mpegdash',
      adsPolicy: 'NO_ADS',
      drm: a.drm ?? [],
    }].filter((s) => (!wanted || wanted.includes(String(s.id))) &&
      (!protocol || s.protocols.split(',').includes(protocol)));
    return {
      objectType: 'KalturaPlaybackContext',
      sources,
      actions: [],
      messages: [],
      plugins: [],
    };
  }

  /** The content path of an assetFile.playManifest URL, or null. */
  manifestFor(pathname) {
    const m = /\/assetId\/([^/]+)\//.exec(pathname);
    const id = m && decodeURIComponent(m[1]);
    return id && this.known(id) ? this.assets[id].manifest : null;
  }
}

// ---------------------------------------------------------------------------------------------
// The media server
// ---------------------------------------------------------------------------------------------

/** Absolute origin for URLs we hand out, as the client addressed us. */
function originOf(req, fallback) {
  const host = req.headers.host;
  return host ? `http://${host}` : fallback;
}

async function handleApi(req, res, emulator, origin, rawPath) {
  if (req.method !== 'POST') {
    sendText(res, 405, 'the emulator accepts POST with a JSON body', CORS);
    return;
  }
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    sendJson(res, 400, apiException('INVALID_JSON', `request body: ${err.message}`), CORS);
    return;
  }
  if (!body || typeof body !== 'object') {
    sendJson(res, 400, apiException('INVALID_JSON', 'request body is not an object'), CORS);
    return;
  }
  if (/\/service\/multirequest(\/|$)/i.test(rawPath)) {
    sendJson(res, 200, emulator.multirequest(body, origin), CORS);
    return;
  }
  // Single-call form: /api_v3/service/<service>/action/<action>
  const single = /\/service\/([^/]+)\/action\/([^/]+)/i.exec(rawPath);
  if (!single) {
    sendText(res, 404, 'unknown API path', CORS);
    return;
  }
  const item = {...body, service: single[1], action: single[2]};
  sendJson(res, 200, emulator.call(item, origin), CORS);
}

function handlePlayManifest(req, res, emulator, origin, rawPath) {
  const manifest = emulator.manifestFor(rawPath);
  if (!manifest) {
    sendText(res, 404, 'playManifest: unknown entry', CORS);
    return;
  }
  redirectToContent(res, origin, manifest);
}

/** 302 to a stream MPD under /content/ (absolute, with CORS). */
function redirectToContent(res, origin, manifest) {
  const location = `${origin}/content/${manifest.split('/').map(encodeURIComponent).join('/')}`;
  res.writeHead(302, {...CORS, Location: location, 'Content-Length': 0});
  res.end();
}

/** Phoenix answers HTTP 200 with `{executionTime, result}` also for errors. */
function sendOtt(res, result) {
  sendJson(res, 200, {executionTime: 0.001, result}, CORS);
}

async function handleOttApi(req, res, ott, origin, rawPath) {
  if (req.method !== 'POST') {
    sendText(res, 405, 'the emulator accepts POST with a JSON body', CORS);
    return;
  }
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    sendOtt(res, ottException(500004, `request body: ${err.message}`));
    return;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    sendOtt(res, ottException(500004, 'request body is not an object'));
    return;
  }
  if (/\/service\/multirequest(\/|$)/i.test(rawPath)) {
    sendOtt(res, ott.multirequest(body, origin));
    return;
  }
  const single = /\/service\/([^/]+)\/action\/([^/]+)/i.exec(rawPath);
  if (!single) {
    sendText(res, 404, 'unknown API path', CORS);
    return;
  }
  sendOtt(res, ott.call({...body, service: single[1], action: single[2]}, origin));
}

function handleOttPlayManifest(req, res, ott, origin, rawPath) {
  const manifest = ott.manifestFor(rawPath);
  if (!manifest) {
    sendText(res, 404, 'playManifest: unknown asset', CORS);
    return;
  }
  redirectToContent(res, origin, manifest);
}

async function handleContent(req, res, contentDir, rawPath) {
  const file = resolveInside(contentDir, rawPath.slice('/content/'.length));
  if (!file) {
    sendText(res, 400, 'bad path', CORS);
    return;
  }
  const sent = await sendFile(req, res, file, {headers: {...CORS, 'Cache-Control': 'no-cache'}});
  if (!sent) sendText(res, 404, 'not found', CORS);
}

/**
 * Starts the fixture media server.
 * @param {object} [options]
 * @param {number} [options.port=0]        0 picks a free port
 * @param {string} options.contentDir      served under /content/
 * @param {number} [options.segmentDelayMs=0] delay before answering each non-manifest file
 * @param {string} [options.host='127.0.0.1']
 * @param {object} [options.entries]       Kaltura entries, see DEFAULT_ENTRIES
 * @param {number} [options.partnerId=1234]
 * @param {object} [options.ottAssets]     Kaltura OTT media assets, see DEFAULT_OTT_ASSETS
 * @returns {Promise<{url: string, port: number, stop: () => Promise<void>,
 *   requests: Array<{method: string, url: string, range: string|null}>, resetLog: () => void}>}
 */
export async function startMediaServer({
  port = 0,
  contentDir,
  host = '127.0.0.1',
  entries = DEFAULT_ENTRIES,
  partnerId = DEFAULT_PARTNER_ID,
  ottAssets = DEFAULT_OTT_ASSETS,
  segmentDelayMs = 0,
} = {}) {
  if (!contentDir) throw new Error('startMediaServer: contentDir is required');
  const emulator = new KalturaEmulator({entries, partnerId});
  const ott = new OttEmulator({assets: ottAssets});
  const requests = [];
  let serverUrl = '';

  const handler = async (req, res) => {
    requests.push({method: req.method, url: req.url, range: req.headers.range ?? null});
    const rawPath = rawPathOf(req);
    const origin = originOf(req, serverUrl);
    if (req.method === 'OPTIONS') return sendPreflight(req, res);
    if (rawPath.startsWith(`${OTT_SERVICE_PATH}/`)) {
      if (/\/action\/playManifest\//i.test(rawPath) && ['GET', 'HEAD'].includes(req.method)) {
        return handleOttPlayManifest(req, res, ott, origin, rawPath);
      }
      return handleOttApi(req, res, ott, origin, rawPath);
    }
    if (rawPath.startsWith('/api_v3/')) return handleApi(req, res, emulator, origin, rawPath);
    if (!['GET', 'HEAD'].includes(req.method)) return sendText(res, 405, 'method not allowed', CORS);
    if (rawPath.includes('/playManifest/')) {
      return handlePlayManifest(req, res, emulator, origin, rawPath);
    }
    if (rawPath.startsWith('/content/')) {
      // A slow CDN, so tests and the demo can see a download in progress.
      if (segmentDelayMs > 0 && !rawPath.endsWith('.mpd')) await new Promise((r) => setTimeout(r, segmentDelayMs));
      return handleContent(req, res, contentDir, rawPath);
    }
    return sendText(res, 404, 'not found', CORS);
  };

  const started = await startHttpServer(handler, {port, host});
  serverUrl = started.url;
  return {
    url: started.url,
    port: started.port,
    stop: started.stop,
    requests,
    resetLog: () => {
      requests.length = 0;
    },
  };
}
