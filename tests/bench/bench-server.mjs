// A benchmark origin: the static server (tests/server/static-server.mjs) with the built worker
// and shim at the root (worker scope `/`), the Kaltura Player bundles under /vendor/kaltura/,
// shaka-player's dist under /vendor/shaka/, and the benchmark pages (tests/bench/pages: pages,
// page helpers, the peer workers) under /bench/. The media comes from the media server
// (tests/server/media-server.mjs). Each origin is its own instance, so a peer worker registered
// on one never sees the others.
//
//   const app = await startBenchServer({root: REPO}); // app.url, app.stop()

import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {startStaticServer} from '../server/static-server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const MOUNTS = [
  ['/vendor/kaltura/', 'tests/.vendor/kaltura-player/dist'],
  ['/vendor/shaka/', 'node_modules/shaka-player/dist'],
  ['/bench/', 'tests/bench/pages'],
];

/** Starts one benchmark origin. Returns {url, port, requests, stop}. */
export async function startBenchServer({root = REPO, port = 0} = {}) {
  return startStaticServer({root, mounts: MOUNTS, port});
}
