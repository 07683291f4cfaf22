// Emulator of the Kaltura OVP API (multirequest + playManifest), in the shapes recorded in
// shared/PLATFORM-FACTS.md ("Kaltura provider"), as a route of the media server
// (media-server.mjs): serviceUrl for the OVP provider is `${media.url}/api_v3`.
//
//   import {ovpRoute} from './kaltura-ovp.mjs';
//   const route = ovpRoute({entries, partnerId});
//   if (await route(req, res, rawPath, origin)) return; // answered
//
// The multirequest references (`{N:result:path}`) and the playManifest answer (a 302 to the
// stream MPD under /content/) are shared with the OTT emulator (kaltura-tv.mjs).

import {CORS, readBody, sendJson, sendText} from './http.mjs';

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
  // Long enough to watch, with the choices a person makes: the demo's first sample.
  '0_feature': {
    name: 'Feature sample',
    description: '3 min, 240p/360p/720p, English and Spanish audio, English and Spanish subtitles (tests/content/make-demo.sh)',
    duration: 180,
    manifest: 'demo/manifest.mpd',
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
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, results)]));
  }
  return value;
}

/** The numbered items of a multirequest body, in order. */
export function numberedItems(body) {
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
        return apiException('SERVICE_FORBIDDEN', `The access to service [${item.service}->${item.action}] is forbidden`, {
          SERVICE: String(item.service),
          ACTION: String(item.action),
        });
    }
  }

  startWidgetSession(item) {
    const fromWidget = /^_(\d+)$/.exec(String(item.widgetId ?? ''));
    const partnerId = fromWidget ? Number(fromWidget[1]) : this.partnerId;
    this.ksCounter += 1;
    const ks = Buffer.from(`v2|${partnerId}|emulator-widget-session|${this.ksCounter}`).toString('base64');
    return {objectType: 'KalturaStartWidgetSessionResponse', ks, partnerId, userId: 0};
  }

  /** Entry ids selected by a KalturaBaseEntryFilter. */
  filterIds(filter = {}) {
    const one = filter.redirectFromEntryId ?? filter.idEqual;
    if (one !== undefined) return [String(one)];
    if (filter.idIn !== undefined) {
      return String(filter.idIn)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
    if (filter.referenceIdEqual !== undefined) {
      return Object.keys(this.entries).filter((id) => this.entries[id].referenceId === filter.referenceIdEqual);
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
      flavorParamsIds: this.flavorsOf(id)
        .map((_, i) => i)
        .join(','),
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
    const url = `${base}/p/${pid}/sp/${pid}00/playManifest/entryId/${id}/protocol/${protocol}` + `/format/mpegdash/flavorIds/${flavorIds}/a.mpd`;
    return {
      objectType: 'KalturaPlaybackContext',
      sources: [
        {
          objectType: 'KalturaPlaybackSource',
          format: 'mpegdash',
          deliveryProfileId: 1,
          protocols: 'http,https',
          flavorIds,
          url,
          drm: this.entries[id].drm ?? [],
        },
      ],
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
}

/**
 * The OVP API as a route: `route(req, res, rawPath, origin)` answers `/api_v3/...` (POST with a
 * JSON body) and GET/HEAD `.../playManifest/...` (302 to the entry's MPD) and resolves true;
 * it resolves false, sending nothing, for any other request. `origin` is the absolute origin
 * of the URLs handed out.
 * @param {{entries?: object, partnerId?: number}} [options] entries: see DEFAULT_ENTRIES
 */
export function ovpRoute({entries = DEFAULT_ENTRIES, partnerId = DEFAULT_PARTNER_ID} = {}) {
  const emulator = new KalturaEmulator({entries, partnerId});
  return async (req, res, rawPath, origin) => {
    if (rawPath.startsWith('/api_v3/')) {
      await handleApi(req, res, emulator, origin, rawPath);
      return true;
    }
    if (['GET', 'HEAD'].includes(req.method) && rawPath.includes('/playManifest/')) {
      answerPlayManifest(res, origin, rawPath, {key: 'entryId', items: emulator.entries, what: 'entry'});
      return true;
    }
    return false;
  };
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

/**
 * Answers a playManifest URL (OVP and OTT): the path segment after `/{key}/` (entryId, assetId)
 * names one of `items`, whose `manifest` (a content path) it 302s to, absolute and with CORS;
 * 404 `playManifest: unknown {what}` when there is no such item.
 * @param {{key: string, items: Record<string, {manifest: string}>, what: string}} lookup
 */
export function answerPlayManifest(res, origin, rawPath, {key, items, what}) {
  const m = new RegExp(`/${key}/([^/]+)/`).exec(rawPath);
  const id = m && decodeURIComponent(m[1]);
  const manifest = id && Object.hasOwn(items, id) ? items[id].manifest : null;
  if (!manifest) {
    sendText(res, 404, `playManifest: unknown ${what}`, CORS);
    return;
  }
  const location = `${origin}/content/${manifest.split('/').map(encodeURIComponent).join('/')}`;
  res.writeHead(302, {...CORS, Location: location, 'Content-Length': 0});
  res.end();
}
