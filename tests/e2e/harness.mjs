// Shared set-up for end-to-end tests: the two loopback servers (app origin and media origin,
// which tests stop to take the network away) and headless Debian Chromium via playwright-core.

import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';
import {startAppServer} from '../server/app-server.mjs';
import {startMediaServer} from '../server/media-server.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CONTENT_DIR = process.env.CONTENT_DIR || path.join(ROOT, 'tests/.content');

const FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Starts the app and media servers. */
export async function startServers() {
  const app = await startAppServer({root: ROOT});
  const media = await startMediaServer({contentDir: CONTENT_DIR});
  return {
    app,
    media,
    /** Stops the media server (the network is gone for the page) and starts it again. */
    async restartMedia() {
      await this.media.stop();
      this.media = await startMediaServer({contentDir: CONTENT_DIR, port: this.media.port});
    },
    async stop() {
      await this.app.stop();
      await this.media.stop();
    },
  };
}

/** How every test and benchmark launches Chromium; the `CHROMIUM` variable overrides the executable. */
export const CHROMIUM_OPTIONS = Object.freeze({executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: FLAGS});

/** Launches Chromium (contexts keep IndexedDB in memory; benchmarks use a profile on disk). */
export async function launch() {
  return chromium.launch(CHROMIUM_OPTIONS);
}

/**
 * Opens `pagePath` on the app origin in a fresh context and records every request the page
 * makes with whether the service worker answered it.
 */
export async function openPage(browser, app, pagePath) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = [];
  page.on('console', (m) => {
    if (process.env.E2E_VERBOSE) console.log('[page]', m.type(), m.text());
  });
  page.on('pageerror', (e) => log.push({pageError: String(e)}));
  page.on('response', (r) => log.push({url: r.url(), status: r.status(), fromServiceWorker: r.fromServiceWorker()}));
  page.on('requestfailed', (r) => log.push({url: r.url(), failed: r.failure()?.errorText ?? 'failed'}));
  await page.goto(app.url + pagePath);
  return {context, page, log};
}

/** Vendors the players and makes the CENC-encrypted content (both idempotent). */
export function prepareEncryptedContent() {
  execFileSync('bash', [path.join(ROOT, 'tests/vendor.sh')], {stdio: 'ignore'});
  execFileSync('bash', [path.join(ROOT, 'tests/content/make-encrypted.sh')], {stdio: 'ignore', env: {...process.env, CONTENT_DIR}});
}
