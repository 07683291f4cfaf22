// What the browser takes away, in Chromium with a profile on disk.
// - Files: IndexedDB keeps each segment's Blob as a file beside the database, and a file that
//   is gone (a disk cleaner, a profile restored from a backup without them, a sync tool) makes
//   reading that record fail with NotReadableError. The worker notices it when it starts (it
//   reads a byte of each completed title's first and last record) and in `verify` (every byte),
//   marks the title evicted, and resume downloads what was lost; the title then plays offline.
// - The whole database, cleared as "Clear site data" does (CDP Storage.clearDataForOrigin)
//   while a download runs: the browser closes the worker's connection; the worker stops the job,
//   writes nothing more, tells the pages, and works on a fresh database.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';
import {CHROMIUM_OPTIONS, CONTENT_DIR, startServers} from './harness.mjs';
import {checkStored, sleep, startDownload, summaryOf} from './engine-helpers.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';

const T = {timeout: 180_000};

let servers;
let proxy;
let profile;
let context;
before(async () => {
  servers = await startServers();
  proxy = await startFaultProxy({target: () => servers.media.url});
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'om-lost-'));
  context = await chromium.launchPersistentContext(profile, CHROMIUM_OPTIONS);
});
after(async () => {
  await context?.close();
  await proxy?.stop();
  await servers?.stop();
  if (profile) fs.rmSync(profile, {recursive: true, force: true});
});

/** The files IndexedDB keeps Blobs in for the app's origin. */
function blobFiles() {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, {withFileTypes: true})) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  const idb = path.join(profile, 'Default', 'IndexedDB');
  for (const d of fs.readdirSync(idb)) if (d.endsWith('.indexeddb.blob')) walk(path.join(idb, d));
  return files;
}

async function openPage() {
  const page = await context.newPage();
  await page.goto(`${servers.app.url}/pages/core.html`);
  await page.evaluate(() => window.setup({}));
  return page;
}

test('a title whose Blob files the browser lost is noticed at the next worker start, repaired by resume, and plays offline', T, async () => {
  const page = await openPage();
  const id = 'lost-files';
  await startDownload(page, id, `${servers.media.url}/content/template/manifest.mpd`);
  assert.equal((await page.evaluate((id) => window.waitState(id, ['completed', 'failed'], 90_000), id)).state, 'completed');
  const files = blobFiles();
  assert.ok(files.length >= 4, `IndexedDB keeps the segments as files: ${files.length}`);
  for (const f of files) fs.rmSync(f);

  // A fresh worker instance reads a byte of the title's first and last record.
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await page.reload();
  await page.evaluate(() => window.setup({}));
  let summary;
  for (let i = 0; i < 100; i++) {
    summary = await summaryOf(page, id);
    if (summary.state !== 'completed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(summary.state, 'failed', JSON.stringify(summary));
  assert.equal(summary.stopReason, 'evicted');

  const verified = await page.evaluate((id) => window.om.verify(id), id);
  assert.equal(verified.ok, false);
  assert.ok(verified.missing > 0, JSON.stringify(verified));
  assert.equal(verified.state, 'failed');

  await page.evaluate(() => {
    window.events.length = 0;
  });
  await page.evaluate((id) => window.om.resume(id), id);
  assert.equal((await page.evaluate((id) => window.waitState(id, ['completed', 'failed'], 90_000), id)).state, 'completed');
  await checkStored(page, id, CONTENT_DIR);
  const again = await page.evaluate((id) => window.om.verify(id), id);
  assert.equal(again.ok, true, JSON.stringify(again));

  // Offline: media server stopped and the browser offline; the worker answers every request.
  const local = (await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), id)).sources.dash[0].url;
  await servers.media.stop();
  await context.setOffline(true);
  try {
    const played = await page.evaluate((url) => window.playFor('shaka', url, 3), local);
    assert.deepEqual(played.errors, []);
    assert.ok(played.currentTime > 3, `currentTime ${played.currentTime}`);
  } finally {
    await context.setOffline(false);
    await servers.restartMedia();
  }
  await page.close();
});

test('site data cleared while a download runs: the worker stops it, writes nothing more, tells the pages and works on a fresh database', T, async () => {
  const page = await openPage();
  proxy.addRule({match: /\/content\/many\/.*\.m4s$/, action: 'delay', delayMs: 150});
  try {
    const id = 'cleared';
    await startDownload(page, id, `${proxy.url}/content/many/manifest.mpd`);
    await page.evaluate((id) => window.waitProgress(id, 10, 60_000), id);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.clearDataForOrigin', {origin: servers.app.url, storageTypes: 'indexeddb'});
    const asked = proxy.requests.length;
    await sleep(3000);
    assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), [], 'the titles went with the data');
    const left = await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('offline-manager');
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['segments', 'manifests', 'licenses'], 'readonly');
            const counts = {};
            for (const name of ['segments', 'manifests', 'licenses']) {
              const req = tx.objectStore(name).count();
              req.onsuccess = () => {
                counts[name] = req.result;
              };
            }
            tx.oncomplete = () => {
              db.close();
              resolve(counts);
            };
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        }),
    );
    assert.deepEqual(left, {segments: 0, manifests: 0, licenses: 0}, 'no record of the stopped job was written after the clear');
    assert.ok(proxy.requests.length - asked <= 8, `the job stopped fetching: ${proxy.requests.length - asked} requests after the clear`);
    const errors = await page.evaluate(() => window.events.filter((e) => e.type === 'error').map((e) => e.detail));
    assert.ok(
      errors.some((e) => e.code === 9001 && /deleted this site's offline storage/.test(e.data.message)),
      `pages hear that the storage was deleted: ${JSON.stringify(errors)}`,
    );
    proxy.clearRules();
    await startDownload(page, 'after-clear', `${servers.media.url}/content/template/manifest.mpd`);
    const end = await page.evaluate(() => window.waitState('after-clear', ['completed', 'failed'], 90_000));
    assert.equal(end.state, 'completed', JSON.stringify(end));
    await checkStored(page, 'after-clear', CONTENT_DIR);
  } finally {
    proxy.clearRules();
    await page.close();
  }
});
