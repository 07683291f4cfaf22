// Static server for the app origin (the demo, test pages, built worker + shim, vendored
// players). The worker script is also served at the root so that a worker registered at
// `/offline-manager-sw.js` gets scope `/`.
//
//   import {startAppServer} from './app-server.mjs';
//   const app = await startAppServer({root: '/path/to/repo'});
//   // app.url -> http://127.0.0.1:PORT ; app.stop()

import path from 'node:path';
import {rawPathOf, resolveInside, sendFile, sendText, startHttpServer} from './fixture-server.mjs';

/** URL prefix -> directory (relative to the repo root). Longest prefixes first. */
const MOUNTS = [
  ['/vendor/kaltura/', 'tests/.vendor/kaltura-player/dist'],
  ['/vendor/shaka/', 'node_modules/shaka-player/dist'],
  ['/vendor/dashjs/', 'node_modules/dashjs/dist'],
  ['/dist/', 'dist'],
  ['/pages/', 'tests/pages'],
  ['/demo/', 'demo'],
];

/** Files from dist/ that are also served at the root (service worker scope `/`). */
const ROOT_FILES = new Set([
  'offline-manager-sw.js',
  'offline-manager-sw_bg.wasm',
  'offline-manager.js',
  'kaltura-offline-manager.js',
]);

const HEADERS = {'Cache-Control': 'no-store'};

/** Maps a raw request path to a file on disk; null when unknown or unsafe. */
function fileFor(root, rawPath) {
  const name = rawPath.slice(1);
  if (ROOT_FILES.has(name)) return path.join(root, 'dist', name);
  for (const [prefix, dir] of MOUNTS) {
    if (rawPath.startsWith(prefix)) {
      let rel = rawPath.slice(prefix.length);
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      return resolveInside(path.join(root, dir), rel);
    }
  }
  return null;
}

/** `/demo` -> `/demo/` so relative URLs in index.html resolve inside the mount. */
function directoryRedirect(rawPath) {
  if (rawPath === '/') return '/demo/';
  const mount = MOUNTS.find(([prefix]) => prefix === `${rawPath}/`);
  return mount ? mount[0] : null;
}

/** The JSON body of a request, or null. */
async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * Starts the app server.
 * @param {{port?: number, root: string, host?: string, actions?: Record<string, (body: unknown) => Promise<unknown>>}} options
 *   root = the repo root; actions = POST paths the demo uses (e.g. to stop the media server)
 *   and pages that drive themselves report to; each is called with the request's JSON body
 *   (null when it has none or it is not JSON)
 * @returns {Promise<{url: string, port: number, requests: Array<{method: string, url: string}>, stop: () => Promise<void>}>}
 *   requests = every request that reached the server (a local `__offline__/` URL among them
 *   means the service worker did not answer it)
 */
export async function startAppServer({port = 0, root, host = '127.0.0.1', actions = {}} = {}) {
  if (!root) throw new Error('startAppServer: root is required');
  const absRoot = path.resolve(root);
  const requests = [];

  const handler = async (req, res) => {
    requests.push({method: req.method, url: req.url});
    const action = req.method === 'POST' && actions[rawPathOf(req)];
    if (action) {
      const body = JSON.stringify(await action(await readJson(req)));
      res.writeHead(200, {...HEADERS, 'Content-Type': 'application/json'});
      return res.end(body);
    }
    if (!['GET', 'HEAD'].includes(req.method)) {
      return sendText(res, 405, 'method not allowed', {...HEADERS, Allow: 'GET, HEAD'});
    }
    const rawPath = rawPathOf(req);
    const redirect = directoryRedirect(rawPath);
    if (redirect) {
      res.writeHead(302, {...HEADERS, Location: redirect, 'Content-Length': 0});
      return res.end();
    }
    const file = fileFor(absRoot, rawPath);
    const sent = file && (await sendFile(req, res, file, {headers: HEADERS, ranges: false}));
    if (!sent) sendText(res, 404, `not found: ${rawPath}`, HEADERS);
  };

  const {url, port: actualPort, stop} = await startHttpServer(handler, {port, host});
  return {url, port: actualPort, requests, stop};
}
