// The app origin (the demo, test pages, built worker + shim, vendored players): the static
// server (static-server.mjs) with this mount table; `/` redirects to the demo.
//
//   import {startAppServer} from './app-server.mjs';
//   const app = await startAppServer({root: '/path/to/repo'});
//   // app.url -> http://127.0.0.1:PORT ; app.stop()

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

/**
 * Starts the app server.
 * @param {{port?: number, root: string, host?: string, actions?: Record<string, (body: unknown) => Promise<unknown>>, mounts?: Array<[string, string]>}} options
 *   root = the repo root; actions = POST paths the demo uses (e.g. to stop the media server)
 *   and pages that drive themselves report to; each is called with the request's JSON body
 *   (null when it has none or it is not JSON); mounts = the mount table (APP_MOUNTS)
 * @returns {Promise<{url: string, port: number, requests: Array<{method: string, url: string}>, stop: () => Promise<void>}>}
 *   requests = every request that reached the server (a local `__offline__/` URL among them
 *   means the service worker did not answer it)
 */
export async function startAppServer({port = 0, root, host = '127.0.0.1', actions = {}, mounts = APP_MOUNTS} = {}) {
  if (!root) throw new Error('startAppServer: root is required');
  return startStaticServer({root, mounts, home: '/demo/', actions, port, host});
}
