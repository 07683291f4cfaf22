// Databases written by older releases, opened by today's worker, in every engine. Each test restores
// a canned `offline-manager` database (tests/fixtures/idb/v1.json, v2.json: dumped from what the
// releases that used schema versions 1 and 2 stored, see tests/fixtures/idb/README.md) in a fresh
// page context before any worker is registered (tests/pages/upgrade.html), then starts today's
// worker and checks what a user notices: the titles are listed with their states, the stored ones
// play offline (the ClearKey one with its stored licence where EME has ClearKey), the half-done
// download resumes and completes with the origin's bytes, and the database is at today's version
// with every old record still there. Two failing opens, derived from the v1 fixture in code: a
// database a newer release left (today's version + 1), and a v1 database whose 1→2 step cannot run (it
// already has a `licenses` store); either way every call rejects with 9001 saying what happened
// and what to do, and the database is left as it was.
//
// The fixtures carry the media files their titles use (`originFiles`): each fixture's titles are
// served by a media server of their own over those files, so the bytes a test expects are the
// very bytes the old release stored, whatever tests/.content holds on this machine.

import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startWorld} from './world.mjs';
import {ROOT} from '../e2e/harness.mjs';
import {checkStored, originBytes, summaryOf} from '../e2e/engine-helpers.mjs';
import {startMediaServer} from '../server/media-server.mjs';

const world = await startWorld();
const {engine, servers, features, playOffline, waitEnd, localRequestsReachingServer} = world;

const T = {timeout: 180_000};
const TODAY = Number(/pub const DB_VERSION: u32 = (\d+);/.exec(fs.readFileSync(path.join(ROOT, 'crates/engine/src/layout.rs'), 'utf8'))[1]);
const TODAY_STORES = ['entries', 'licenses', 'manifests', 'plans', 'segments'];

/** A fixture with its media served from its own files: {json, dir, media, url (of the fixture JSON), stop/start of the media}. */
async function serveFixture(release) {
  const file = path.join(ROOT, 'tests/fixtures/idb', `${release}.json`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `om-upgrade-${release}-`));
  for (const [p, sha] of Object.entries(json.originFiles)) {
    const dest = path.join(dir, p.slice('/content/'.length));
    fs.mkdirSync(path.dirname(dest), {recursive: true});
    fs.writeFileSync(dest, Buffer.from(json.blobs[sha], 'base64'));
  }
  fs.copyFileSync(file, path.join(dir, 'fixture.json')); // the page fetches it: no megabyte through the driver
  const fx = {release, json, dir, media: await startMediaServer({contentDir: dir})};
  fx.url = `${fx.media.url}/content/fixture.json`;
  fx.stopMedia = () => fx.media.stop();
  fx.startMedia = async () => {
    fx.media = await startMediaServer({contentDir: dir, port: fx.media.port});
  };
  after(async () => {
    await fx.media.stop().catch(() => {});
    fs.rmSync(dir, {recursive: true, force: true});
  });
  return fx;
}

const FIXTURES = {v1: await serveFixture('v1'), v2: await serveFixture('v2')};

/**
 * A fresh page of upgrade.html in which the fixture's database is restored (its origins rewritten
 * to this run's: the app server's and the fixture's media server's) before anything registers the
 * worker; then today's worker starts (window.setup) and `fn(page, {before})` runs, `before` being
 * the digest of the database as restored. `restore` options go to idbFixture.restore.
 */
async function withRestored(fx, fn, {restore = {}, options = {}} = {}) {
  const page = await engine.newPage(`${servers.app.url}/pages/upgrade.html`);
  try {
    const keepsBlobs = await page.evaluate(() => window.idbKeepsBlobs());
    // The licence server of the run that made the fixture: a closed port here (only stored keys may answer).
    const origins = {[fx.json.origins.app]: servers.app.url, [fx.json.origins.media]: fx.media.url};
    if (fx.json.origins.license) origins[fx.json.origins.license] = 'http://127.0.0.1:9';
    const restored = await page.evaluate(({url, opts}) => window.idbFixture.restore(url, opts), {
      url: fx.url,
      opts: {origins, asArrayBuffers: !keepsBlobs, ...restore},
    });
    assert.equal(restored.version, restore.version ?? fx.json.version);
    assert.equal(
      restored.records,
      fx.json.stores.reduce((n, s) => n + s.records.length, 0),
      'every record of the fixture restored',
    );
    const before = await page.evaluate(() => window.idbFixture.digest('offline-manager'));
    assert.equal(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length)), 0, 'no worker registered before setup');
    await page.evaluate((o) => window.setup(o), options);
    return await fn(page, {before});
  } finally {
    await page.close();
  }
}

/** playOffline, with the fixture's own media server stopped too (the world's goes down in playOffline). */
async function playStoredOffline(fx, page, id, opts) {
  await fx.stopMedia();
  try {
    await playOffline(page, id, opts);
  } finally {
    await fx.startMedia();
  }
}

/** Every record of `before` is in `after` (entries by key; the other stores with every old field unchanged). */
function assertOldRecordsKept(before, after) {
  for (const [name, store] of Object.entries(before.stores)) {
    const now = after.stores[name];
    assert.ok(now, `store ${name} is still there`);
    for (const [key, fields] of Object.entries(store.records)) {
      assert.ok(key in now.records, `${name} record ${key} is still there`);
      if (name === 'entries') continue; // an entry's record is the worker's to rewrite (its state, its plan's form)
      for (const [field, sha] of Object.entries(fields)) assert.equal(now.records[key][field], sha, `${name} record ${key}: field ${field} unchanged`);
    }
  }
}

for (const release of ['v1', 'v2']) {
  const fx = FIXTURES[release];
  const titles = fx.json.titles;
  const clear = titles.find((t) => t.state === 'completed' && !t.clearKey);
  const partial = titles.find((t) => t.state === 'paused');

  test(`the titles stored by the ${release} release are listed with their states after the upgrade`, T, async () => {
    await withRestored(fx, async (page) => {
      const all = await page.evaluate(() => window.om.getAllDownloads());
      assert.deepEqual(all.map((e) => e.id).sort(), titles.map((t) => t.id).sort(), JSON.stringify(all));
      for (const t of titles) {
        const e = all.find((x) => x.id === t.id);
        assert.equal(e.state, t.state, `${t.id}: ${JSON.stringify(e)}`);
        if (t.state === 'completed') assert.equal(e.progress, 100, `${t.id}: ${JSON.stringify(e)}`);
        else assert.ok(e.progress > 0 && e.progress < 100, `${t.id} is part-way: ${JSON.stringify(e)}`);
        assert.match(e.metadata?.name ?? '', new RegExp(`${release} release`), `${t.id} keeps its metadata`);
      }
      const paused = all.find((e) => e.id === partial.id);
      assert.equal(paused.stopReason, 'user');
    });
  });

  test(`a title stored by the ${release} release plays offline after the upgrade, with the bytes it stored`, T, async () => {
    await withRestored(fx, async (page) => {
      await checkStored(page, clear.id, fx.dir);
      await playStoredOffline(fx, page, clear.id);
    });
  });

  test(`a download the ${release} release left half-way resumes after the upgrade and completes with the origin's bytes`, T, async () => {
    await withRestored(fx, async (page) => {
      const {stored: old} = await checkStored(page, partial.id, fx.dir, {complete: false});
      fx.media.resetLog();
      const resumed = await page.evaluate((id) => window.om.resume(id), partial.id);
      assert.equal(resumed.state, 'downloading', JSON.stringify(resumed));
      const end = await waitEnd(page, partial.id);
      assert.equal(end.state, 'completed', JSON.stringify(end));
      const {planned} = await checkStored(page, partial.id, fx.dir);
      const fetched = fx.media.requests.filter((r) => /\.m4s$/.test(r.url)).map((r) => r.url);
      assert.equal(fetched.length, planned.length - old.length, `only the ${planned.length - old.length} missing segments are fetched: ${fetched}`);
      assert.equal((await summaryOf(page, partial.id)).progress, 100);
      await playStoredOffline(fx, page, partial.id);
    });
  });

  // The bootstrap answers a cold worker's first whole segment from IndexedDB itself, before the
  // wasm is ready (a v1 record has no `chunks`); a range goes to the wasm's serve module.
  test(`a cold worker serves a segment the ${release} release stored, whole and by range`, {
    ...T,
    skip: !engine.can.stopWorkers && engine.why.stopWorkers,
  }, async () => {
    await withRestored(fx, async (page) => {
      const {entry} = await checkStored(page, clear.id, fx.dir);
      const local = (await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), clear.id)).sources.dash[0].url;
      const track = entry.plan.tracks.find((t) => t.segments.length > 1);
      const want = originBytes(fx.dir, track.segments[1].url, track.segments[1].range);
      await engine.stopWorkers(page);
      servers.app.requests.length = 0;
      const got = await page.evaluate(
        async (url) => {
          const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
          const whole = await fetch(url);
          const part = await fetch(url, {headers: {Range: 'bytes=-16'}});
          return {whole: [whole.status, hex(await whole.arrayBuffer())], part: [part.status, hex(await part.arrayBuffer())]};
        },
        local.replace(/manifest\.mpd$/, `${track.key}/2`),
      );
      assert.deepEqual(got.whole, [200, want.toString('hex')]);
      assert.deepEqual(got.part, [206, want.subarray(want.length - 16).toString('hex')]);
      assert.deepEqual(localRequestsReachingServer(), [], 'the worker answered');
    });
  });

  test(`after the upgrade the ${release} database is at today's version with every old record still there`, T, async () => {
    await withRestored(fx, async (page, {before}) => {
      assert.equal(before.version, fx.json.version);
      await page.evaluate(() => window.om.getAllDownloads()); // the worker has opened (and upgraded) the database
      const now = await page.evaluate(() => window.idbFixture.digest('offline-manager'));
      assert.equal(now.version, TODAY);
      assert.deepEqual(Object.keys(now.stores).sort(), TODAY_STORES);
      assertOldRecordsKept(before, now);
    });
  });
}

test('a ClearKey title stored by the v2 release plays offline after the upgrade with the licence it stored', {
  ...T,
  skip: !features.clearKey && 'this engine has no EME ClearKey (requestMediaKeySystemAccess refuses or is missing)',
}, async () => {
  const fx = FIXTURES.v2;
  const enc = fx.json.titles.find((t) => t.clearKey);
  assert.ok(enc, 'the v2 fixture has a ClearKey title');
  await withRestored(fx, async (page) => {
    await checkStored(page, enc.id, fx.dir);
    const stored = await page.evaluate((id) => window.om.getDownloadedMediaConfig(id), enc.id);
    assert.match(stored.localLicenseUrl, new RegExp(`__offline__/${enc.id}/license$`));
    // The licence URLs point at a closed port (withRestored): only the stored key can answer.
    await playStoredOffline(fx, page, enc.id, {seconds: 2, clearKey: true});
  });
});

/** Every OfflineManager call in the page, each settled: {name: {resolved} | {rejected: the Kaltura error}}. */
const callEverything = (page, id) =>
  page.evaluate(async (id) => {
    const om = window.om;
    const calls = {
      getAllDownloads: () => om.getAllDownloads(),
      getMediaConfig: () => om.getMediaConfig({entryId: 'a-new-title', sources: {dash: [{url: 'http://127.0.0.1:9/content/none.mpd'}]}}),
      download: () => om.download(id),
      pause: () => om.pause(id),
      resume: () => om.resume(id),
      getDownloadedMediaConfig: () => om.getDownloadedMediaConfig(id),
      getExpiration: () => om.getExpiration(id),
      renewLicense: () => om.renewLicense(id),
      pauseAll: () => om.pauseAll(),
      remove: () => om.remove(id),
      removeAll: () => om.removeAll(),
    };
    const out = {};
    for (const [name, call] of Object.entries(calls)) {
      out[name] = await call().then(
        (r) => ({resolved: JSON.parse(JSON.stringify(r ?? null))}),
        (e) => ({rejected: JSON.parse(JSON.stringify(e))}),
      );
    }
    return out;
  }, id);

function assertAllRejected(results, message) {
  for (const [name, r] of Object.entries(results)) {
    assert.ok(r.rejected, `${name} rejects: ${JSON.stringify(r)}`);
    assert.equal(r.rejected.code, 9001, `${name}: ${JSON.stringify(r.rejected)}`);
    assert.equal(r.rejected.category, 9, `${name}: ${JSON.stringify(r.rejected)}`);
    for (const re of message) assert.match(r.rejected.data?.message ?? '', re, `${name}: ${JSON.stringify(r.rejected)}`);
  }
  console.log(`9001 message: ${results.getAllDownloads.rejected.data.message}`);
}

test('a database left by a newer release is refused with 9001 saying so and what to do, and left untouched', T, async () => {
  // As a newer release would leave it before the app was rolled back: today's version + 1, today's stores.
  const fx = FIXTURES.v1;
  await withRestored(
    fx,
    async (page, {before}) => {
      assert.equal(before.version, TODAY + 1);
      assertAllRejected(await callEverything(page, 'v1-clear'), [/newer/i, /reload|update/i, /clear/i]);
      const now = await page.evaluate(() => window.idbFixture.digest('offline-manager'));
      assert.equal(now.version, TODAY + 1, 'still at the newer version');
      assert.deepEqual(now, before, 'every store and record as it was');
    },
    {restore: {version: TODAY + 1, extraStores: [{name: 'licenses'}, {name: 'plans'}]}, options: {requestTimeoutMs: 10_000}},
  );
});

test('a v1 database whose upgrade fails is refused with 9001 saying so and what to do, and stays at version 1 with every record readable', T, async () => {
  // A `licenses` store already there: the 1→2 step's createObjectStore throws, and IndexedDB rolls the upgrade back.
  const fx = FIXTURES.v1;
  await withRestored(
    fx,
    async (page, {before}) => {
      assert.equal(before.version, 1);
      assertAllRejected(await callEverything(page, 'v1-clear'), [/upgrad/i, /fail/i, /reload|update|try again|report/i]);
      const now = await page.evaluate(() => window.idbFixture.digest('offline-manager'));
      assert.equal(now.version, 1, 'still version 1');
      assert.deepEqual(now, before, 'every store and record as it was, and readable');
    },
    {restore: {extraStores: [{name: 'licenses'}]}, options: {requestTimeoutMs: 10_000}},
  );
});
