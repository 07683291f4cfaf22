// The app origin of the download benchmark: the built worker and shim at the root (worker scope
// `/`), shaka-player's dist under /vendor/shaka/, and the benchmark pages (tests/bench/pages)
// under /bench/. The media comes from the fixture media server (tests/server/fixture-server.mjs).
//
//   const app = await startBenchApp({root: REPO}); // app.url, app.stop()

import path from 'node:path';
import {rawPathOf, resolveInside, sendFile, sendText, startHttpServer} from '../server/fixture-server.mjs';

const MOUNTS = [
  ['/vendor/shaka/', 'node_modules/shaka-player/dist'],
  ['/bench/', 'tests/bench/pages'],
];
const ROOT_FILES = new Set(['offline-manager-sw.js', 'offline-manager-sw_bg.wasm', 'offline-manager.js']);
const HEADERS = {'Cache-Control': 'no-store'};

function fileFor(root, rawPath) {
  const name = rawPath.slice(1);
  if (ROOT_FILES.has(name)) return path.join(root, 'dist', name);
  for (const [prefix, dir] of MOUNTS) {
    if (rawPath.startsWith(prefix)) return resolveInside(path.join(root, dir), rawPath.slice(prefix.length));
  }
  return null;
}

/** Starts the static app server for the benchmark pages. */
export async function startBenchApp({root, port = 0}) {
  const handler = async (req, res) => {
    if (!['GET', 'HEAD'].includes(req.method)) return sendText(res, 405, 'method not allowed', HEADERS);
    const rawPath = rawPathOf(req);
    const file = fileFor(root, rawPath);
    const sent = file && (await sendFile(req, res, file, {headers: HEADERS, ranges: false}));
    if (!sent) sendText(res, 404, `not found: ${rawPath}`, HEADERS);
  };
  const {url, port: actualPort, stop} = await startHttpServer(handler, {port});
  return {url, port: actualPort, stop};
}
