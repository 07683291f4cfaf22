// The app origin (the demo, test pages, built worker + shim, vendored players): the static
// server (static-server.mjs) with this mount table; `/` redirects to the demo.
//
//   import {startAppServer} from './app-server.mjs';
//   const app = await startAppServer({root: '/path/to/repo'});
//   // app.url -> http://127.0.0.1:PORT ; app.stop()
//   app.setWorkerBuild(2); // "the app ships a new build": worker scripts now end in `// build 2`

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

/**
 * Starts the app server.
 * @param {{port?: number, root: string, host?: string, actions?: Record<string, (body: unknown) => Promise<unknown>>, mounts?: Array<[string, string]>, workerBuild?: number}} options
 *   root = the repo root; actions = POST paths the demo uses (e.g. to stop the media server)
 *   and pages that drive themselves report to; each is called with the request's JSON body
 *   (null when it has none or it is not JSON); mounts = the mount table (APP_MOUNTS);
 *   workerBuild = the build the worker scripts are served as: 0 (the default) serves them as
 *   they are, N > 0 appends `// build N` to every `*sw.js` (same code, other bytes: the
 *   browser's update check installs it as a new worker); `setWorkerBuild(n)` changes it
 * @returns {Promise<{url: string, port: number, requests: Array<{method: string, url: string}>, setWorkerBuild: (n: number) => void, stop: () => Promise<void>}>}
 *   requests = every request that reached the server (a local `__offline__/` URL among them
 *   means the service worker did not answer it)
 */
export async function startAppServer({port = 0, root, host = '127.0.0.1', actions = {}, mounts = APP_MOUNTS, workerBuild = 0} = {}) {
  if (!root) throw new Error('startAppServer: root is required');
  let build = workerBuild;
  const suffix = (rawPath) => (build > 0 && WORKER_SCRIPT.test(rawPath) ? `\n// build ${build}\n` : '');
  const server = await startStaticServer({root, mounts, home: '/demo/', actions, suffix, port, host});
  return Object.assign(server, {
    setWorkerBuild(n) {
      build = n;
    },
  });
}
