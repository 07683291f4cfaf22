// Media server for the tests and the demo: static DASH content under /content/ with byte ranges
// and CORS, a request log, and the Kaltura OVP (kaltura-ovp.mjs) and OTT (kaltura-tv.mjs) API
// emulators on the same origin.
//
//   import {startMediaServer} from './media-server.mjs';
//   const media = await startMediaServer({contentDir: 'tests/.content'});
//   // media.url -> http://127.0.0.1:PORT ; serviceUrl for the OVP provider: `${media.url}/api_v3`,
//   // for the OTT (TV build) provider: `${media.url}/ott/api_v3` (OTT_SERVICE_PATH)
//   await media.stop();
//
// Node built-ins only.

import {CORS, rawPathOf, resolveInside, sendFile, sendPreflight, sendText, startHttpServer} from './http.mjs';
import {DEFAULT_ENTRIES, DEFAULT_PARTNER_ID, ovpRoute} from './kaltura-ovp.mjs';
import {DEFAULT_OTT_ASSETS, ottRoute} from './kaltura-tv.mjs';

/** Absolute origin for URLs we hand out, as the client addressed us. */
function originOf(req, fallback) {
  const host = req.headers.host;
  return host ? `http://${host}` : fallback;
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
 * Starts the media server.
 * @param {object} [options]
 * @param {number} [options.port=0]        0 picks a free port
 * @param {string} options.contentDir      served under /content/
 * @param {number} [options.segmentDelayMs=0] delay before answering each non-manifest file
 * @param {string} [options.host='127.0.0.1']
 * @param {object} [options.entries]       Kaltura entries, see DEFAULT_ENTRIES (kaltura-ovp.mjs)
 * @param {number} [options.partnerId=1234]
 * @param {object} [options.ottAssets]     Kaltura OTT media assets, see DEFAULT_OTT_ASSETS (kaltura-tv.mjs)
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
  const ott = ottRoute({assets: ottAssets});
  const ovp = ovpRoute({entries, partnerId});
  const requests = [];
  let serverUrl = '';

  const handler = async (req, res) => {
    requests.push({method: req.method, url: req.url, range: req.headers.range ?? null});
    const rawPath = rawPathOf(req);
    const origin = originOf(req, serverUrl);
    if (req.method === 'OPTIONS') return sendPreflight(req, res);
    // The OTT API first: its paths are its own (OTT_SERVICE_PATH), the OVP's are not.
    if (await ott(req, res, rawPath, origin)) return;
    if (await ovp(req, res, rawPath, origin)) return;
    if (!['GET', 'HEAD'].includes(req.method)) return sendText(res, 405, 'method not allowed', CORS);
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
