// Tests of the app server (app-server.mjs, on static-server.mjs). Run: node --test tests/server/

import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {startAppServer} from './app-server.mjs';
import {REPO, connectionRefused, halfSentRequest, rawRequest} from './helpers.mjs';

describe('stop()', () => {
  test('app server: closes keep-alive connections and the port refuses afterwards', async () => {
    const app = await startAppServer({root: REPO});
    const agent = new http.Agent({keepAlive: true});
    await rawRequest(app.url, '/', {agent});
    const busy = await halfSentRequest(app.port);
    await app.stop();
    await busy.closed;
    assert.equal(await connectionRefused(app.port), true);
    agent.destroy();
  });
});

describe('app server', () => {
  let root;
  let app;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'app-server-'));
    const files = {
      'dist/offline-manager-sw.js': 'self.x = 1;',
      'dist/offline-manager-sw_bg.wasm': '\0asm',
      'dist/offline-manager.js': 'export {};',
      'demo/index.html': '<!doctype html>demo',
      'tests/pages/a.css': 'p{}',
      'tests/pages/app-sw.js': 'importScripts("/offline-manager-sw.js");',
      'node_modules/shaka-player/dist/shaka-player.compiled.js': '//shaka',
      'secret.txt': 'secret',
    };
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), {recursive: true});
      fs.writeFileSync(path.join(root, rel), text);
    }
    app = await startAppServer({root});
  });
  after(async () => {
    await app.stop();
    fs.rmSync(root, {recursive: true, force: true});
  });

  test('the worker and shim are served at the root from dist/ (scope /)', async () => {
    const sw = await fetch(`${app.url}/offline-manager-sw.js`);
    assert.equal(sw.status, 200);
    assert.equal(sw.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(sw.headers.get('cache-control'), 'no-store');
    assert.equal(await sw.text(), 'self.x = 1;');
    const wasm = await fetch(`${app.url}/offline-manager-sw_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    await wasm.arrayBuffer();
    assert.equal((await fetch(`${app.url}/offline-manager.js`)).status, 200);
  });

  test('mounts map to their directories; / and /demo redirect to /demo/', async () => {
    const home = await fetch(`${app.url}/`, {redirect: 'manual'});
    assert.equal(home.status, 302);
    assert.equal(home.headers.get('location'), '/demo/');
    const demo = await fetch(`${app.url}/demo`);
    assert.equal(demo.url, `${app.url}/demo/`);
    assert.equal(await demo.text(), '<!doctype html>demo');
    const css = await fetch(`${app.url}/pages/a.css`);
    assert.match(css.headers.get('content-type'), /^text\/css/);
    await css.text();
    assert.equal(await (await fetch(`${app.url}/vendor/shaka/shaka-player.compiled.js`)).text(), '//shaka');
  });

  test('a new worker build changes the bytes of every worker script, and only theirs', async () => {
    const text = (p) => fetch(`${app.url}${p}`).then((r) => r.text());
    try {
      app.setWorkerBuild(2);
      const sw = await fetch(`${app.url}/offline-manager-sw.js`);
      assert.equal(sw.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(sw.headers.get('cache-control'), 'no-store');
      assert.equal(await sw.text(), 'self.x = 1;\n// build 2\n');
      assert.equal(await text('/pages/app-sw.js'), 'importScripts("/offline-manager-sw.js");\n// build 2\n');
      assert.equal(await text('/offline-manager.js'), 'export {};');
      assert.equal(await text('/pages/a.css'), 'p{}');
    } finally {
      app.setWorkerBuild(0);
    }
    assert.equal(await text('/offline-manager-sw.js'), 'self.x = 1;');
  });

  test('unknown paths are 404 and traversal is refused', async () => {
    assert.equal((await rawRequest(app.url, '/nothing.js')).status, 404);
    for (const p of ['/demo/../secret.txt', '/demo/%2e%2e/secret.txt', '/dist/..%2fsecret.txt']) {
      const res = await rawRequest(app.url, p);
      assert.equal(res.status, 404, p);
      assert.notEqual(res.body.toString(), 'secret');
    }
  });
});

describe('app server: a new build with another wasm', () => {
  const WASM = Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]); // the empty module
  const cacheOf = (bytes) => `offline-manager-wasm-${crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
  let root;
  let app;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'app-server-wasm-'));
    fs.mkdirSync(path.join(root, 'dist'));
    fs.writeFileSync(path.join(root, 'dist/offline-manager-sw_bg.wasm'), WASM);
    fs.writeFileSync(path.join(root, 'dist/offline-manager-sw.js'), `const OM_WASM_CACHE = '${cacheOf(WASM)}';`);
    app = await startAppServer({root});
  });
  after(async () => {
    await app.stop();
    fs.rmSync(root, {recursive: true, force: true});
  });

  test('the wasm gets a build section and the worker script names its cache by the new hash', async () => {
    const get = async (p) => Buffer.from(await (await fetch(`${app.url}${p}`)).arrayBuffer());
    app.setWorkerBuild(3, {wasm: true});
    const wasm = await get('/offline-manager-sw_bg.wasm');
    const sections = WebAssembly.Module.customSections(new WebAssembly.Module(wasm), 'build');
    assert.deepEqual(
      sections.map((s) => Buffer.from(s).toString()),
      ['3'],
    );
    assert.equal((await get('/offline-manager-sw.js')).toString(), `const OM_WASM_CACHE = '${cacheOf(wasm)}';\n// build 3\n`);
    app.setWorkerBuild(4);
    assert.ok((await get('/offline-manager-sw_bg.wasm')).equals(WASM), 'without {wasm: true} the wasm is as built');
    assert.equal((await get('/offline-manager-sw.js')).toString(), `const OM_WASM_CACHE = '${cacheOf(WASM)}';\n// build 4\n`);
  });
});
