// Emulator of the Kaltura OTT / TV (Phoenix) API, as a route of the media server
// (media-server.mjs): serviceUrl for the OTT provider of the TV build is
// `${media.url}${OTT_SERVICE_PATH}`, so that the OVP API (`/api_v3`) is unaffected.
//
//   import {ottRoute} from './kaltura-tv.mjs';
//   const route = ottRoute({assets});
//   if (await route(req, res, rawPath, origin)) return; // answered
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

import {CORS, readBody, sendJson, sendText} from './http.mjs';
import {answerPlayManifest, DEFAULT_ENTRIES, numberedItems, resolveReferences} from './kaltura-ovp.mjs';

/** The OTT API lives under its own path so that the OVP one (`/api_v3`) is unaffected. */
export const OTT_SERVICE_PATH = '/ott/api_v3';

/**
 * Default OTT media assets: numeric id -> {name, description, duration, manifest}, the same six
 * streams as DEFAULT_ENTRIES (1001 template, 1002 timeline, 1003 list, 1004 base, 1005 encrypted, 1006 feature). Optional
 * per-asset fields: `fileId` (default id * 10 + 1), `type` (file type, default "DASH_Main"),
 * `metas`/`tags` (Phoenix shape: {name: {objectType, value}}), `drm` ([{scheme, licenseURL}]).
 */
export const DEFAULT_OTT_ASSETS = Object.fromEntries(Object.values(DEFAULT_ENTRIES).map((entry, i) => [String(1001 + i), {...entry}]));

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
    const ks = Buffer.from(`v2|${item.partnerId ?? 0}|emulator-ott-anonymous|${this.ksCounter}`).toString('base64');
    return {objectType: 'KalturaLoginSession', ks, expiry: 1900000000};
  }

  known(id) {
    return Object.hasOwn(this.assets, id);
  }

  assetNotFound(id) {
    return ottException(500007, `Asset ${id} does not exist`);
  }

  manifestUrl(id, base, partnerId) {
    return (
      `${base}${OTT_SERVICE_PATH}/service/assetFile/action/playManifest/partnerId/${partnerId}`
      + `/assetId/${id}/assetType/media/assetFileId/${this.fileIdOf(id)}/contextType/PLAYBACK/a.mpd`
    );
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
      images: [
        {
          objectType: 'KalturaMediaImage',
          ratio: '16:9',
          width: 640,
          height: 360,
          url: a.poster ?? `${base}/content/poster.jpg`,
          version: 0,
          id: `${id}_img`,
          isDefault: true,
        },
      ],
      mediaFiles: [
        {
          objectType: 'KalturaMediaFile',
          assetId: Number(id),
          id: this.fileIdOf(id),
          type: fileType,
          url: this.manifestUrl(id, base, item.partnerId ?? 0),
          duration: a.duration ?? 0,
          externalId: '',
          fileSize: 0,
        },
      ],
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
    const wanted =
      params.assetFileIds === undefined
        ? null
        : String(params.assetFileIds)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    const protocol = params.mediaProtocol === undefined ? null : String(params.mediaProtocol);
    const sources = [
      {
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
      },
    ].filter((s) => (!wanted || wanted.includes(String(s.id))) && (!protocol || s.protocols.split(',').includes(protocol)));
    return {
      objectType: 'KalturaPlaybackContext',
      sources,
      actions: [],
      messages: [],
      plugins: [],
    };
  }
}

/**
 * The OTT API as a route: `route(req, res, rawPath, origin)` answers every path under
 * OTT_SERVICE_PATH (GET/HEAD `.../action/playManifest/...` 302s to the asset's MPD, anything
 * else is an API call, POST with a JSON body) and resolves true; it resolves false, sending
 * nothing, for any other path. `origin` is the absolute origin of the URLs handed out.
 * @param {{assets?: object}} [options] assets: see DEFAULT_OTT_ASSETS
 */
export function ottRoute({assets = DEFAULT_OTT_ASSETS} = {}) {
  const ott = new OttEmulator({assets});
  return async (req, res, rawPath, origin) => {
    if (!rawPath.startsWith(`${OTT_SERVICE_PATH}/`)) return false;
    if (/\/action\/playManifest\//i.test(rawPath) && ['GET', 'HEAD'].includes(req.method)) {
      answerPlayManifest(res, origin, rawPath, {key: 'assetId', items: ott.assets, what: 'asset'});
    } else {
      await handleOttApi(req, res, ott, origin, rawPath);
    }
    return true;
  };
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
