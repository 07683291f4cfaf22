// A fault-injecting loopback proxy for tests of the download engine: it forwards every request
// to an upstream server (the media server) and, for requests matching a rule, answers in a
// broken way instead. Node built-ins only.
//
//   import {startFaultProxy} from './fault-proxy.mjs';
//   const proxy = await startFaultProxy({target: media.url});   // or a function returning it
//   const rule = proxy.addRule({match: 'chunk-stream0-00002', action: 'status', status: 500, times: 2});
//   // ... the page fetches `${proxy.url}/content/...` ...
//   rule.hits;        // how many requests the rule answered
//   proxy.requests;   // [{method, url, range, action, at, endedAt, whole}] in arrival order:
//                     // endedAt = when the answer ended (null while it runs), whole = whether
//                     // it went out whole (false: cut by the proxy's rule or by the client)
//   proxy.clearRules(); await proxy.stop();
//
// A rule: {match, action, times = Infinity, delayMs = 0, ...}
//   match     a substring of the request URL (path + query), a RegExp, or (req) => boolean
//   times     how many matching requests the rule answers; afterwards it is spent and ignored
//   delayMs   the answer is held back this long (also with action 'delay': nothing else changes)
//   action:
//     'delay'         the upstream answer, late
//     'status'        answer `status` (500, 404, 410...) with a short text body; no upstream call
//     'drop'          headers with the full Content-Length, `afterBytes` of the body (default
//                     half), then the connection is destroyed
//     'stall'         headers and `afterBytes` of the body (default half), then nothing: the
//                     connection stays open until releaseStalls() or stop()
//     'length'        Content-Length announces body size + `lengthDelta`: with a positive delta
//                     the whole body is sent and the connection closed (fewer bytes than
//                     announced); with a negative one the client reads a body cut short by
//                     -lengthDelta bytes (the rest follows 50 ms later, then the connection
//                     closes)
//     'ignore-range'  the Range header is not forwarded: 200 with the whole file
//     'redirect'      302 to `location(req)` (a function of the request); no upstream call
// The first live rule that matches wins; OPTIONS requests are always forwarded untouched.
// Fault answers carry `Access-Control-Allow-Origin: *` so that browsers see them as answers.

import http from 'node:http';
import {startHttpServer} from './http.mjs';

const ACTIONS = new Set(['delay', 'status', 'drop', 'stall', 'length', 'ignore-range', 'redirect']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade', 'te', 'trailer']);
const CORS = {'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': '*'};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function matches(rule, req) {
  const {match} = rule;
  if (typeof match === 'function') return Boolean(match(req));
  if (match instanceof RegExp) return match.test(req.url);
  return typeof match === 'string' && req.url.includes(match);
}

/** Fetches `path` from upstream; resolves {status, headers, body: Buffer}. */
function fetchUpstream(base, req, {dropRange}) {
  const headers = {...req.headers, host: new URL(base).host};
  if (dropRange) delete headers.range;
  return new Promise((resolve, reject) => {
    const up = http.request(`${base}${req.url}`, {method: req.method, headers}, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks)}));
      res.on('error', reject);
    });
    up.on('error', reject);
    req.pipe(up);
  });
}

/** The upstream headers worth passing on (no hop-by-hop ones, no length: we set it). */
function endToEnd(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  return out;
}

/** Writes `bytes` and calls back once they are handed to the socket. */
function writeThen(res, bytes, then) {
  if (bytes.length === 0) return then();
  res.write(bytes, () => then());
}

/**
 * Starts the proxy.
 * @param {{target: string | (() => string), port?: number, host?: string}} options
 *   target = the upstream origin (`http://127.0.0.1:PORT`), or a function giving it at each request
 */
export async function startFaultProxy({target, port = 0, host = '127.0.0.1'} = {}) {
  if (!target) throw new Error('startFaultProxy: target is required');
  const upstream = typeof target === 'function' ? target : () => target;
  const rules = [];
  const requests = [];
  const stalled = new Set();

  const handler = async (req, res) => {
    const rule = req.method === 'OPTIONS' ? null : (rules.find((r) => r.hits < r.times && matches(r, req)) ?? null);
    if (rule) rule.hits += 1;
    const record = {
      method: req.method,
      url: req.url,
      range: req.headers.range ?? null,
      action: rule?.action ?? null,
      at: Date.now(),
      endedAt: null,
      whole: false,
    };
    requests.push(record);
    res.on('close', () => {
      record.endedAt = Date.now();
      record.whole = res.writableFinished;
    });
    if (rule?.action === 'status') {
      if (rule.delayMs > 0) await sleep(rule.delayMs);
      const body = `fault-proxy: ${rule.status}\n`;
      res.writeHead(rule.status, {
        ...CORS,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (rule?.action === 'redirect') {
      res.writeHead(302, {...CORS, Location: rule.location(req), 'Content-Length': 0, 'Cache-Control': 'no-store'});
      res.end();
      return;
    }
    let up;
    try {
      up = await fetchUpstream(upstream(), req, {dropRange: rule?.action === 'ignore-range'});
    } catch {
      res.destroy();
      return;
    }
    if (rule?.delayMs > 0) await sleep(rule.delayMs);
    const headers = endToEnd(up.headers);
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : up.body;
    const action = rule?.action;
    const cut = Math.min(body.length, rule?.afterBytes ?? Math.floor(body.length / 2));

    if (action === 'drop' || action === 'stall') {
      res.writeHead(up.status, {...headers, 'Content-Length': body.length});
      writeThen(res, body.subarray(0, cut), () => {
        if (action === 'drop') {
          res.destroy();
        } else {
          stalled.add(res);
          res.on('close', () => stalled.delete(res));
        }
      });
      return;
    }
    if (action === 'length') {
      const announced = Math.max(0, body.length + rule.lengthDelta);
      res.writeHead(up.status, {...headers, 'Content-Length': announced, Connection: 'close'});
      if (announced > body.length) {
        writeThen(res, body, () => res.destroy());
      } else {
        // The client reads `announced` bytes and is done; the rest follows a moment later as
        // junk on a connection that then closes (sent at once, a client may take it for a
        // malformed response instead of a short body).
        writeThen(res, body.subarray(0, announced), () =>
          setTimeout(() => {
            if (!res.socket?.destroyed) res.socket?.write(body.subarray(announced), () => res.destroy());
          }, 50),
        );
      }
      return;
    }
    res.writeHead(up.status, {...headers, 'Content-Length': body.length});
    res.end(body);
  };

  const server = await startHttpServer(handler, {port, host});
  return {
    url: server.url,
    port: server.port,
    requests,
    /** Adds a rule (see the file comment) and returns it; `rule.hits` counts its answers. */
    addRule(spec) {
      const rule = {times: Infinity, delayMs: 0, ...spec, hits: 0};
      if (!ACTIONS.has(rule.action)) throw new Error(`fault-proxy: unknown action ${rule.action}`);
      if (rule.action === 'status' && !Number.isInteger(rule.status)) throw new Error('fault-proxy: status needs `status`');
      if (rule.action === 'length' && !Number.isInteger(rule.lengthDelta)) throw new Error('fault-proxy: length needs `lengthDelta`');
      if (rule.action === 'redirect' && typeof rule.location !== 'function') throw new Error('fault-proxy: redirect needs `location(req)`');
      rules.push(rule);
      return rule;
    },
    removeRule(rule) {
      const i = rules.indexOf(rule);
      if (i !== -1) rules.splice(i, 1);
    },
    clearRules() {
      rules.length = 0;
    },
    /** Requests whose URL matches (substring or RegExp), optionally only those a rule answered. */
    requestsTo(match, {faulted} = {}) {
      return requests.filter((r) => matches({match}, r) && (faulted === undefined || Boolean(r.action) === faulted));
    },
    resetLog() {
      requests.length = 0;
    },
    /** Ends every stalled answer by destroying its connection. */
    releaseStalls() {
      for (const res of stalled) res.destroy();
      stalled.clear();
    },
    async stop() {
      for (const res of stalled) res.destroy();
      stalled.clear();
      await server.stop();
    },
  };
}
