// The app origin (the demo, test pages, built worker + shim, vendored players): the static
// server (static-server.mjs) with this mount table; `/` redirects to the demo.
//
//   import {startAppServer} from './app-server.mjs';
//   const app = await startAppServer({root: '/path/to/repo'});
//   // app.url -> http://127.0.0.1:PORT ; app.stop()
//   app.setWorkerBuild(2); // "the app ships a new build": worker scripts now end in `// build 2`
//   app.setWorkerBuild(3, {wasm: true}); // a build with another wasm (and its cache name)

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {startStaticServer} from './static-server.mjs';

/** URL prefix -> directory (relative to the repo root). Longest prefixes first. */
export const APP_MOUNTS = [
  ['/vendor/kaltura/', 'tests/.vendor/kaltura-player/dist'],
  ['/vendor/shaka/', 'node_modules/shaka-player/dist'],
  ['/vendor/dashjs/', 'node_modules/dashjs/dist'],
  ['/dist/', 'dist'],
  ['/pages/', 'tests/pages'],
  ['/demo/', 'demo'],
];

/** The worker scripts a new build changes: `/offline-manager-sw.js`, `/pages/embedded-sw.js`, ... */
const WORKER_SCRIPT = /sw\.js$/;
const WASM = '/offline-manager-sw_bg.wasm';

/** The name of the worker's wasm cache for these wasm bytes (as scripts/build.sh stamps it). */
const wasmCache = (bytes) => `offline-manager-wasm-${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;

/** `wasm` with a custom section `build` holding `n`: another module that runs the same. */
function withBuildSection(wasm, n) {
  const name = Buffer.from('build');
  const payload = Buffer.from(String(n));
  const body = Buffer.concat([Buffer.from([name.length]), name, payload]);
  if (body.length > 127) throw new Error('build section too long');
  return Buffer.concat([wasm, Buffer.from([0, body.length]), body]);
}

/**
 * Starts the app server.
 * @param {{port?: number, root: string, host?: string, actions?: Record<string, (body: unknown) => Promise<unknown>>, mounts?: Array<[string, string]>, workerBuild?: number}} options
 *   root = the repo root; actions = POST paths the demo uses (e.g. to stop the media server)
 *   and pages that drive themselves report to; each is called with the request's JSON body
 *   (null when it has none or it is not JSON); mounts = the mount table (APP_MOUNTS);
 *   workerBuild = the build the worker is served as: 0 (the default) serves its files as they
 *   are, N > 0 appends `// build N` to every `*sw.js` (same code, other bytes: the browser's
 *   update check installs it as a new worker). `setWorkerBuild(n, {wasm: true})` also makes it
 *   a build with another wasm: the wasm gets a custom section `build` (the same code, other
 *   bytes) and the worker scripts name its cache by its new hash, as scripts/build.sh would
 * @returns {Promise<{url: string, port: number, requests: Array<{method: string, url: string}>, setWorkerBuild: (n: number, o?: {wasm?: boolean}) => void, stop: () => Promise<void>}>}
 *   requests = every request that reached the server (a local `__offline__/` URL among them
 *   means the service worker did not answer it)
 */
export async function startAppServer({port = 0, root, host = '127.0.0.1', actions = {}, mounts = APP_MOUNTS, workerBuild = 0} = {}) {
  if (!root) throw new Error('startAppServer: root is required');
  let build = {n: workerBuild, wasm: false};
  const rewrite = (rawPath) => {
    const {n, wasm} = build;
    if (n > 0 && WORKER_SCRIPT.test(rawPath)) {
      return (bytes) => {
        let text = bytes.toString('utf8');
        if (wasm) {
          const original = fs.readFileSync(path.join(root, 'dist', WASM));
          text = text.replaceAll(wasmCache(original), wasmCache(withBuildSection(original, n)));
        }
        return Buffer.from(`${text}\n// build ${n}\n`);
      };
    }
    if (n > 0 && wasm && rawPath === WASM) return (bytes) => withBuildSection(bytes, n);
    return null;
  };
  const server = await startStaticServer({root, mounts, home: '/demo/', actions, rewrite, port, host});
  return Object.assign(server, {
    setWorkerBuild(n, {wasm = false} = {}) {
      build = {n, wasm};
    },
  });
}
