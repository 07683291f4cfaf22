// A real app built with real tools: tests/app-vite (Vite + a Workbox worker from workbox-build's
// generateSW that importScripts our worker), with the npm package installed from the tarball
// `npm pack` makes of page-shim/. In a temporary copy under target/ (so that vite and
// workbox-build resolve from the repository's node_modules) the test installs the tarball, builds
// the app twice (APP_VERSION 1 and 2), serves a build with a few lines of static server, and
// drives it in headless Chromium:
//   1. the app's Workbox precache serves it with the server gone, and a title downloaded through
//      the package's API is served offline by our worker inside the app's worker;
//   2. a new build of the app's worker takes over (skipWaiting + clientsClaim, the app's choice)
//      while a download runs: the download completes, every segment stored once, no error event;
//   3. a page shim and a worker of different protocol versions meet with a 9002 naming both.
// Needs dist/ built (scripts/build.sh also stages page-shim/dist/) and tests/.content.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, cpSync, readdirSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {CONTENT_DIR, ROOT, launch} from '../e2e/harness.mjs';
import {startMediaServer} from '../server/media-server.mjs';

const APP_SRC = path.dirname(fileURLToPath(import.meta.url));
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'page-shim/package.json'), 'utf8'));
const VITE = path.join(ROOT, 'node_modules/vite/bin/vite.js');
const TYPES = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.txt': 'text/plain'};

// npm here only packs and installs a local tarball that has no dependencies: no registry needed.
const NPM_ENV = {...process.env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false'};

let work;
let builds;
let media;
let browser;

before(async () => {
  assert.ok(existsSync(path.join(ROOT, 'page-shim/dist/offline-manager-sw_bg.wasm')), 'page-shim/dist/ is missing: run bash scripts/build.sh');
  work = mkdtempSync(path.join(ROOT, 'target', 'app-vite-'));
  const app = path.join(work, 'app');
  for (const f of ['package.json', 'index.html', 'vite.config.js', 'src', 'public']) cpSync(path.join(APP_SRC, f), path.join(app, f), {recursive: true});
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
    cwd: path.join(ROOT, 'page-shim'),
    env: NPM_ENV,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  execFileSync('npm', ['install', '--offline', '--ignore-scripts', '--no-package-lock', path.join(work, tarball)], {
    cwd: app,
    env: NPM_ENV,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  assert.ok(existsSync(path.join(app, 'node_modules/@offline-manager/web/dist/offline-manager-sw.js')), 'the tarball did not install');
  builds = {};
  for (const version of ['1', '2']) {
    const outDir = path.join(work, `dist-v${version}`);
    execFileSync(process.execPath, [VITE, 'build'], {
      cwd: app,
      env: {...process.env, APP_VERSION: version, OUT_DIR: outDir},
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    builds[version] = outDir;
  }
  media = await startMediaServer({contentDir: CONTENT_DIR, segmentDelayMs: 120});
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await media?.stop();
  if (work) rmSync(work, {recursive: true, force: true});
});

/** A static server for a build: `state.root` may be switched; `state.patch(rel, bytes)` may rewrite. */
async function startStatic(state) {
  const server = http.createServer(async (req, res) => {
    let rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.join(state.root, path.normalize(rel));
    if (!file.startsWith(state.root + path.sep)) {
      res.writeHead(400);
      res.end();
      return;
    }
    try {
      let body = await readFile(file);
      if (state.patch) body = state.patch(rel, body);
      res.writeHead(200, {'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache'});
      res.end(body);
    } catch {
      res.writeHead(404, {'Content-Type': 'text/plain'});
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  });
}

/** A fresh context on the app, once the app's worker controls the page. */
async function openApp(app) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (process.env.E2E_VERBOSE) console.log('[page]', m.type(), m.text());
  });
  context.on('serviceworker', (w) =>
    w.on('console', (m) => {
      if (process.env.E2E_VERBOSE) console.log('[sw]', m.type(), m.text());
    }),
  );
  await page.goto(`${app.url}/`);
  await page.waitForFunction(() => window.om && navigator.serviceWorker.controller, null, {timeout: 20000});
  return {context, page, pageErrors};
}

const waitState = (page, entryId, state, timeout = 60000) =>
  page.waitForFunction(([id, s]) => window.events.some((e) => e.type === 'statechange' && e.detail.entryId === id && e.detail.state === s), [entryId, state], {
    timeout,
    polling: 50,
  });

const plainConfig = (entryId, form) => ({entryId, sources: {dash: [{url: `${media.url}/content/${form}/manifest.mpd`}]}, metadata: {name: entryId}});

/** In the page: every stored record of `entryId`, grouped by (track, index). */
function readSegments(page, entryId) {
  return page.evaluate(async (id) => {
    const req = (r) =>
      new Promise((resolve, reject) => {
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    const db = await req(indexedDB.open('offline-manager'));
    try {
      const records = await req(
        db
          .transaction('segments')
          .objectStore('segments')
          .getAll(IDBKeyRange.bound([id], [id, []])),
      );
      const groups = {};
      for (const r of records) (groups[`${r.track}/${r.index}`] ??= []).push({chunk: r.chunk, size: (r.blob ?? r.bytes)?.size ?? r.bytes?.byteLength});
      return groups;
    } finally {
      db.close();
    }
  }, entryId);
}

test('inside a Workbox worker: the app loads from its precache offline, and a downloaded title is served offline', async () => {
  const app = await startStatic({root: builds['1']});
  const {context, page, pageErrors} = await openApp(app);
  try {
    // Our worker answers its own messages, with its versions; the app's own handler answers its own.
    const replies = await page.evaluate(async () => {
      const worker = navigator.serviceWorker.controller;
      const ask = (msg, ms = 400) =>
        new Promise((resolve) => {
          const ch = new MessageChannel();
          const got = [];
          ch.port1.onmessage = (e) => got.push(e.data);
          worker.postMessage(msg, [ch.port2]);
          setTimeout(() => resolve(got), ms);
        });
      return {ping: await ask({v: 1, id: 7, type: 'ping'}), app: await ask({type: 'app-hello'}), shim: window.PACKAGE_VERSION};
    });
    assert.equal(replies.ping.length, 1, JSON.stringify(replies.ping));
    const [ping] = replies.ping;
    assert.equal(ping.ok, true, JSON.stringify(ping));
    assert.equal(ping.id, 7);
    assert.equal(ping.v, 1);
    assert.equal(ping.workerVersion, PKG.version);
    assert.equal(typeof ping.result.activeJobs, 'number');
    assert.equal(replies.shim, PKG.version, 'OfflineManager.version');
    assert.equal(replies.app.length, 1, `only the app answers its message: ${JSON.stringify(replies.app)}`);
    assert.equal(replies.app[0].app, true);
    assert.equal(replies.app[0].offlineManager.embedded, true);
    assert.equal(replies.app[0].offlineManager.version, PKG.version);
    assert.equal(replies.app[0].offlineManager.wasmUrl, `${app.url}/offline-manager-sw_bg.wasm`);

    await page.evaluate((c) => window.om.getMediaConfig(c), plainConfig('vite-1', 'template'));
    await page.evaluate(() => window.om.download('vite-1', {bitrate: 400000}));
    await waitState(page, 'vite-1', 'completed');

    // The network is gone: the app's server and the media server stopped, the browser offline.
    await app.stop();
    await media.stop();
    await context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => window.om && document.querySelector('#status').textContent === 'ready', null, {timeout: 20000});
    assert.equal(await page.title(), 'Vite app with offline downloads');
    assert.match(await page.textContent('#version'), new RegExp(`^1 \\(offline manager ${PKG.version.replace(/\./g, '\\.')}\\)$`));

    const offline = await page.evaluate(async () => {
      const config = await window.om.getDownloadedMediaConfig('vite-1');
      const manifest = await fetch(config.sources.dash[0].url);
      return {
        state: config.state,
        url: config.sources.dash[0].url,
        isLocal: config.sources.dash[0].isLocal,
        status: manifest.status,
        text: await manifest.text(),
      };
    });
    assert.equal(offline.state, 'completed');
    assert.equal(offline.isLocal, true);
    assert.ok(offline.url.startsWith(`${app.url}/__offline__/`), offline.url);
    assert.equal(offline.status, 200);
    assert.match(offline.text, /<MPD[\s>]/);

    const groups = await readSegments(page, 'vite-1');
    const keys = Object.keys(groups);
    assert.ok(keys.length >= 10, `only ${keys.length} segments stored`);
    const served = await page.evaluate(
      async (list) => {
        const out = [];
        for (const [key, size] of list) {
          const r = await fetch(`/__offline__/vite-1/${key}`);
          out.push({key, status: r.status, bytes: (await r.arrayBuffer()).byteLength, size});
        }
        return out;
      },
      keys.map((k) => [k, groups[k].reduce((n, c) => n + c.size, 0)]),
    );
    for (const s of served) {
      assert.equal(s.status, 200, JSON.stringify(s));
      assert.equal(s.bytes, s.size, JSON.stringify(s));
      assert.ok(s.bytes > 0);
    }
    const played = await page.evaluate((url) => window.playFor(url, 3), offline.url);
    assert.deepEqual(played.errors, [], 'shaka-player in the app: no error');
    assert.ok(played.currentTime > 3, `shaka-player in the app reached ${played.currentTime}`);
    assert.deepEqual(await page.evaluate(() => window.events.filter((e) => e.type === 'error')), []);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
    await app.stop().catch(() => undefined);
    media = await startMediaServer({contentDir: CONTENT_DIR, segmentDelayMs: 120, port: media.port});
  }
});

test('a new build of the app worker takes over while a download runs: the download completes, every segment stored once', async () => {
  const app = await startStatic({root: builds['1']});
  const {context, page, pageErrors} = await openApp(app);
  try {
    await page.evaluate((c) => window.om.getMediaConfig(c), plainConfig('update-1', 'many'));
    await page.evaluate(() => window.om.download('update-1', {bitrate: 400000, concurrency: 2}));
    await page.waitForFunction(() => window.events.some((e) => e.type === 'progress' && e.detail.entryId === 'update-1' && e.detail.segmentsDone >= 6), null, {
      timeout: 30000,
      polling: 20,
    });

    app.root = builds['2']; // the app ships a new build
    const before = await page.evaluate(() => window.controllerChanges);
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration('/')).update();
    });
    await page.waitForFunction((n) => window.controllerChanges > n, before, {timeout: 30000});
    const midway = await page.evaluate(() => {
      const last = window.events.filter((e) => e.type === 'progress' && e.detail.entryId === 'update-1').pop();
      return last ? last.detail : null;
    });
    assert.ok(midway && midway.segmentsDone < midway.segmentsTotal, `the update came after the download: ${JSON.stringify(midway)}`);
    // The new worker's precache answers: index.html of build 2 names build 2's bundle.
    const v2Bundle = readdirSync(path.join(builds['2'], 'assets')).find((f) => f.endsWith('.js'));
    assert.notEqual(
      v2Bundle,
      readdirSync(path.join(builds['1'], 'assets')).find((f) => f.endsWith('.js')),
    );
    assert.ok((await page.evaluate(() => fetch('/').then((r) => r.text()))).includes(v2Bundle), 'the new worker controls the page');

    await waitState(page, 'update-1', 'completed', 120000);
    const total = await page.evaluate(() => window.events.filter((e) => e.type === 'progress' && e.detail.entryId === 'update-1').pop().detail);
    const groups = await readSegments(page, 'update-1');
    assert.equal(Object.keys(groups).length, total.segmentsTotal, `${Object.keys(groups).length} stored of ${total.segmentsTotal}`);
    for (const [key, chunks] of Object.entries(groups)) {
      const numbers = chunks.map((c) => c.chunk);
      assert.equal(new Set(numbers).size, numbers.length, `segment ${key} stored twice: ${numbers}`);
    }
    const list = await page.evaluate(() => window.om.getAllDownloads());
    assert.deepEqual(
      list.map((d) => [d.id, d.state]),
      [['update-1', 'completed']],
    );
    assert.deepEqual(await page.evaluate(() => window.events.filter((e) => e.type === 'error')), []);
    assert.deepEqual(pageErrors, []);
    // Reloaded, the page runs build 2 and still has the title.
    await page.reload();
    await page.waitForFunction(() => window.om && window.APP_VERSION === '2', null, {timeout: 20000});
    assert.equal((await page.evaluate(() => window.om.getDownloadedMediaConfig('update-1'))).state, 'completed');
  } finally {
    await context.close();
    await app.stop();
  }
});

test('a page shim and a worker of different protocol versions meet with a 9002 naming both', async () => {
  // The worker of "another release": the same build with its protocol constant changed.
  const app = await startStatic({
    root: builds['1'],
    patch: (rel, body) => {
      if (rel !== '/offline-manager-sw.js') return body;
      // The worker script is minified (scripts/build.sh): `OM_PROTOCOL_VERSION=1` in a const list.
      const text = body.toString();
      const changed = text.replace(/\bOM_PROTOCOL_VERSION\s*=\s*1\b/, 'OM_PROTOCOL_VERSION=2');
      assert.notEqual(changed, text, 'the worker script states its protocol version');
      return Buffer.from(changed);
    },
  });
  const {context, page} = await openApp(app);
  try {
    const r = await page.evaluate(async () => {
      try {
        await window.om.getAllDownloads();
        return {resolved: true};
      } catch (e) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return {error: e, events: window.events.filter((x) => x.type === 'error').map((x) => x.detail)};
      }
    });
    assert.ok(r.error, 'getAllDownloads should reject');
    assert.equal(r.error.category, 9);
    assert.equal(r.error.code, 9002);
    assert.equal(r.error.data.pageProtocol, 1);
    assert.equal(r.error.data.workerProtocol, 2);
    assert.match(r.error.data.message, /protocol 1\b.*protocol 2\b/);
    assert.ok(r.error.data.message.includes(`package ${PKG.version}`), r.error.data.message);
    assert.match(r.error.data.message, /reload the page/);
    assert.deepEqual(r.events, [r.error], 'the same error is dispatched as an error event');
  } finally {
    await context.close();
    await app.stop();
  }
});
