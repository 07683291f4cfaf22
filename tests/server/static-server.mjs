// Static server for a page origin: files from directories mounted under URL prefixes, some files
// of dist/ at the root (a worker registered at `/offline-manager-sw.js` gets scope `/`), POST
// actions, and a log of every request. No ranges, no caching. The app server (app-server.mjs)
// and the benchmark origins (tests/bench/bench-server.mjs) are this with their mount tables.
//
//   import {startStaticServer} from './static-server.mjs';
//   const s = await startStaticServer({root: REPO, mounts: [['/pages/', 'tests/pages']]});
//   // s.url -> http://127.0.0.1:PORT ; s.requests ; await s.stop()

import fs from 'node:fs';
import path from 'node:path';
import {contentTypeFor, rawPathOf, readBody, resolveInside, sendFile, sendText, startHttpServer} from './http.mjs';

/** The files of dist/ a page origin serves at its root. */
export const DIST_ROOT_FILES = ['offline-manager-sw.js', 'offline-manager-sw_bg.wasm', 'offline-manager.js', 'kaltura-offline-manager.js'];

const HEADERS = {'Cache-Control': 'no-store'};

/** Maps a raw request path to a file on disk; null when unknown or unsafe. */
function fileFor(root, rawPath, mounts, rootFiles) {
  const name = rawPath.slice(1);
  if (rootFiles.has(name)) return path.join(root, 'dist', name);
  for (const [prefix, dir] of mounts) {
    if (rawPath.startsWith(prefix)) {
      let rel = rawPath.slice(prefix.length);
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      return resolveInside(path.join(root, dir), rel);
    }
  }
  return null;
}

/** `/demo` -> `/demo/` so relative URLs in index.html resolve inside the mount; `/` -> home. */
function directoryRedirect(rawPath, mounts, home) {
  if (rawPath === '/') return home;
  const mount = mounts.find(([prefix]) => prefix === `${rawPath}/`);
  return mount ? mount[0] : null;
}

/** The JSON body of a request, or null when it has none or it is not JSON. */
async function readJson(req) {
  try {
    return JSON.parse(await readBody(req));
  } catch {
    return null;
  }
}

/** Sends `change(bytes of file)` (whole, no ranges); false when there is no such file. */
async function sendRewritten(req, res, file, change) {
  let bytes;
  try {
    bytes = change(await fs.promises.readFile(file));
  } catch {
    return false;
  }
  res.writeHead(200, {...HEADERS, 'Content-Type': contentTypeFor(file), 'Content-Length': bytes.length});
  res.end(req.method === 'HEAD' ? undefined : bytes);
  return true;
}

/**
 * Starts a static server.
 * @param {object} options
 * @param {string} options.root             the repo root; mounts and dist/ are relative to it
 * @param {Array<[string, string]>} options.mounts URL prefix (ending in `/`) -> directory,
 *   longest prefixes first
 * @param {Iterable<string>} [options.rootFiles=DIST_ROOT_FILES] files of dist/ served at the root
 * @param {string|null} [options.home=null] where `/` redirects to (null: 404)
 * @param {Record<string, (body: unknown) => Promise<unknown>>} [options.actions] POST paths,
 *   each called with the request's JSON body (null when it has none or it is not JSON); the
 *   answer is its result as JSON
 * @param {(rawPath: string) => ((bytes: Buffer) => Buffer) | null} [options.rewrite] for a path
 *   whose file is to be served changed, the change (null: the file as it is); such a file is
 *   served whole from memory
 * @param {number} [options.port=0]
 * @param {string} [options.host='127.0.0.1']
 * @returns {Promise<{url: string, port: number, requests: Array<{method: string, url: string}>, stop: () => Promise<void>}>}
 */
export async function startStaticServer({
  root,
  mounts,
  rootFiles = DIST_ROOT_FILES,
  home = null,
  actions = {},
  rewrite = () => null,
  port = 0,
  host = '127.0.0.1',
} = {}) {
  if (!root) throw new Error('startStaticServer: root is required');
  const absRoot = path.resolve(root);
  const files = new Set(rootFiles);
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
    const redirect = directoryRedirect(rawPath, mounts, home);
    if (redirect) {
      res.writeHead(302, {...HEADERS, Location: redirect, 'Content-Length': 0});
      return res.end();
    }
    const file = fileFor(absRoot, rawPath, mounts, files);
    const change = file ? rewrite(rawPath) : null;
    const sent = file && (change ? await sendRewritten(req, res, file, change) : await sendFile(req, res, file, {headers: HEADERS, ranges: false}));
    if (!sent) sendText(res, 404, `not found: ${rawPath}`, HEADERS);
  };

  const {url, port: actualPort, stop} = await startHttpServer(handler, {port, host});
  return {url, port: actualPort, requests, stop};
}
