// Loopback W3C ClearKey licence server for the tests and the demo (node built-ins only).
//
//   import {startClearKeyServer} from './clearkey-server.mjs';
//   import {KEYS} from '../content/encrypted-keys.mjs';
//   const lic = await startClearKeyServer({keys: KEYS, durationMs: 60_000});
//   // lic.licenseUrl -> http://127.0.0.1:PORT/license ; lic.requests ; lic.setRefusing(true) ; lic.stop()
//
// Protocol (EME ClearKey, https://www.w3.org/TR/encrypted-media/#clear-key): the player POSTs
// the CDM's licence request message as is, a JSON object
//   {"kids": ["<base64url key id>", ...], "type": "temporary" | "persistent-license"}
// and gets back a JSON Web Key Set
//   {"keys": [{"kty": "oct", "kid": "<base64url>", "k": "<base64url key>"}], "type": "..."}
// with the keys it knows (a kid it does not know is left out; when it knows none it answers
// 403 {"error": "unknown-kids", "kids": [...]}). A body that is not such a request gets 400
// {"error": "malformed-request", "message"}; another method 405, another path 404.
//
// Licence duration, OUR CONVENTION: ClearKey licences carry no expiry of their own, so when the
// server is started with `durationMs` (or after setDurationMs), every licence it grants expires
// at now + durationMs, and it says so twice:
//   - in the JSON:   "expiration": <ms since the epoch> (an extra member; CDMs ignore it)
//   - in a header:   X-License-Expiration: <ms since the epoch> (exposed to CORS readers)
// Without a duration neither is sent (the licence does not expire).
//
// CORS: any origin; preflights for `Content-Type: application/json` (or any requested header)
// are answered 204. setRefusing(true | status) makes every licence request fail (default 403,
// {"error": "refused"}) to test renewal failures; stop() takes the server away entirely.

import {readBody, startHttpServer} from './http.mjs';

export const LICENSE_PATH = '/license';
export const EXPIRATION_HEADER = 'X-License-Expiration';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': EXPIRATION_HEADER,
};

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...CORS,
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** base64url (padded or not) of 16 bytes -> lowercase hex; null when it is not a key id. */
function kidToHex(value) {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return null;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.length === 16 ? bytes.toString('hex') : null;
}

const toBase64url = (hex) => Buffer.from(hex, 'hex').toString('base64url');

/** Parses a ClearKey licence request body; throws Error(message) when malformed. */
export function parseLicenseRequest(text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`body is not JSON: ${err.message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('body is not a JSON object');
  if (!Array.isArray(json.kids) || json.kids.length === 0) throw new Error('"kids" must be a non-empty array');
  const kids = json.kids.map((k) => {
    const hex = kidToHex(k);
    if (!hex) throw new Error(`not a base64url 16-byte key id: ${JSON.stringify(k)}`);
    return hex;
  });
  const type = json.type ?? 'temporary';
  if (type !== 'temporary' && type !== 'persistent-license') throw new Error(`unknown session type ${JSON.stringify(type)}`);
  return {kids, type};
}

/**
 * Starts the licence server.
 * @param {object} [options]
 * @param {Record<string, string>} [options.keys]  key id -> key, both base64url (or both hex)
 * @param {number|null} [options.durationMs=null]  licence duration; null = no expiration sent
 * @param {number} [options.port=0]  @param {string} [options.host='127.0.0.1']
 * @returns {Promise<{url: string, licenseUrl: string, port: number, requests: object[],
 *   setRefusing: (on: boolean|number) => void, setDurationMs: (ms: number|null) => void,
 *   resetLog: () => void, stop: () => Promise<void>}>}
 *   requests: {method, path, contentType, origin, body, kids (base64url), type, status, expiration, at}
 */
export async function startClearKeyServer({keys = {}, durationMs = null, port = 0, host = '127.0.0.1'} = {}) {
  const known = new Map(); // kid hex -> key hex
  for (const [kid, key] of Object.entries(keys)) {
    const kidHex = /^[0-9a-f]{32}$/i.test(kid) ? kid.toLowerCase() : kidToHex(kid);
    const keyHex = /^[0-9a-f]{32}$/i.test(key) ? key.toLowerCase() : kidToHex(key);
    if (!kidHex || !keyHex) throw new Error(`startClearKeyServer: bad key entry ${kid}`);
    known.set(kidHex, keyHex);
  }
  const requests = [];
  let refusing = null; // null or an HTTP status
  let duration = durationMs;

  const handler = async (req, res) => {
    const path = req.url.split('?')[0];
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...CORS,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || 'Content-Type',
        'Access-Control-Max-Age': '600',
        'Content-Length': 0,
      });
      return res.end();
    }
    if (path !== LICENSE_PATH) return sendJson(res, 404, {error: 'not-found', message: `no such path ${path}`});
    const entry = {
      method: req.method,
      path,
      contentType: req.headers['content-type'] ?? null,
      origin: req.headers.origin ?? null,
      body: null,
      kids: null,
      type: null,
      status: 0,
      expiration: null,
      at: Date.now(),
    };
    requests.push(entry);
    const answer = (status, value, headers) => {
      entry.status = status;
      sendJson(res, status, value, headers);
    };
    if (req.method !== 'POST') return answer(405, {error: 'method-not-allowed', message: 'POST a ClearKey licence request'}, {Allow: 'POST, OPTIONS'});
    entry.body = await readBody(req, 64 * 1024);
    let parsed;
    try {
      parsed = parseLicenseRequest(entry.body);
    } catch (err) {
      return answer(400, {error: 'malformed-request', message: err.message});
    }
    entry.kids = parsed.kids.map(toBase64url);
    entry.type = parsed.type;
    if (refusing !== null) return answer(refusing, {error: 'refused', message: 'the licence server refuses every request'});
    const granted = parsed.kids.filter((k) => known.has(k));
    if (granted.length === 0) return answer(403, {error: 'unknown-kids', kids: entry.kids});
    const body = {
      keys: granted.map((k) => ({kty: 'oct', kid: toBase64url(k), k: toBase64url(known.get(k))})),
      type: parsed.type,
    };
    const headers = {};
    if (duration !== null && duration !== undefined) {
      entry.expiration = body.expiration = Date.now() + duration;
      headers[EXPIRATION_HEADER] = String(body.expiration);
    }
    return answer(200, body, headers);
  };

  const server = await startHttpServer(handler, {port, host});
  return {
    url: server.url,
    licenseUrl: `${server.url}${LICENSE_PATH}`,
    port: server.port,
    requests,
    /** true (403), a 4xx/5xx status, or false to grant licences again. */
    setRefusing(on) {
      refusing = on === true ? 403 : on ? Number(on) : null;
    },
    setDurationMs(ms) {
      duration = ms;
    },
    resetLog() {
      requests.length = 0;
    },
    stop: server.stop,
  };
}
