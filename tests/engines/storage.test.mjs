// The worker's database under the hands of others, in every engine: a page (or a newer release)
// that needs the database gets it at once, an open blocked by another tab ends in an error that
// says what to do instead of a hang, and records the browser deleted are noticed, named, and
// downloaded again on resume.

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {startWorld} from './world.mjs';
import {CONTENT_DIR} from '../e2e/harness.mjs';
import {checkStored, startDownload, summaryOf} from '../e2e/engine-helpers.mjs';

const world = await startWorld();
const {engine, proxy, withPage, waitEnd, playOffline} = world;

const T = {timeout: 180_000};
const MANIFEST = () => `${proxy.url}/content/template/manifest.mpd`;

/** In the page: downloads `id` of the template stream to the end. */
async function downloaded(page, id) {
  await startDownload(page, id, MANIFEST());
  const end = await waitEnd(page, id);
  assert.equal(end.state, 'completed', JSON.stringify(end));
}

test('a page deleting the offline database is not blocked by the worker, and the worker then works on a fresh one', T, async () => {
  await withPage(async (page) => {
    await downloaded(page, 'deleted-db');
    const deletion = await page.evaluate(
      () =>
        new Promise((resolve) => {
          let blocked = false;
          const started = Date.now();
          const req = indexedDB.deleteDatabase('offline-manager');
          req.onblocked = () => {
            blocked = true;
          };
          req.onsuccess = () => resolve({ok: true, blocked, ms: Date.now() - started});
          req.onerror = () => resolve({ok: false, error: String(req.error)});
          setTimeout(() => resolve({ok: false, error: 'still waiting after 10 s'}), 10_000);
        }),
    );
    assert.equal(deletion.ok, true, JSON.stringify(deletion));
    // The worker closed its connection on versionchange, so the deletion did not wait for it.
    assert.ok(deletion.ms < 5000, `deleted in ${deletion.ms} ms`);
    assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), [], 'the titles are gone with the database');
    const errors = await page.evaluate(() => window.events.filter((e) => e.type === 'error').map((e) => e.detail));
    assert.ok(
      errors.some((e) => e.code === 9001 && /deleted this site's offline storage/.test(e.data.message)),
      `pages hear that the storage was deleted: ${JSON.stringify(errors)}`,
    );
    // And it downloads again on the new database.
    await downloaded(page, 'after-deletion');
    await checkStored(page, 'after-deletion', CONTENT_DIR);
  });
});

test('an open blocked by another tab holding an old version ends in a clear error, and works once that tab lets go', T, async () => {
  await withPage(
    async (page) => {
      // Another tab of an old release: the version-1 database, a connection that never closes.
      await page.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const open = indexedDB.open('offline-manager', 1);
            open.onupgradeneeded = () => {
              open.result.createObjectStore('entries', {keyPath: 'id'});
              open.result.createObjectStore('segments');
              open.result.createObjectStore('manifests', {keyPath: 'entryId'});
            };
            open.onsuccess = () => {
              window.oldTab = open.result; // no onversionchange: it holds on
              resolve();
            };
            open.onerror = () => reject(open.error);
          }),
      );
      await page.evaluate(() => window.setup({}));
      const started = Date.now();
      const refused = await page.evaluate(() =>
        window.om.getAllDownloads().then(
          () => null,
          (e) => ({code: e.code, category: e.category, message: e.data?.message}),
        ),
      );
      const waited = Date.now() - started;
      assert.ok(refused, 'the call is refused');
      assert.equal(refused.code, 9001, JSON.stringify(refused));
      assert.equal(refused.category, 9);
      assert.match(refused.message, /close the app's other tabs/);
      assert.ok(waited < 25_000, `refused after ${waited} ms, not left hanging`);
      await page.evaluate(() => window.oldTab.close());
      assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
      await downloaded(page, 'after-block');
    },
    {setup: false},
  );
});

test('a stored title whose records another context deleted is listed as evicted within a second, and resume downloads just those again', T, async () => {
  await withPage(async (page) => {
    const id = 'evicted';
    await downloaded(page, id);
    const listed = await summaryOf(page, id);
    assert.equal(typeof listed.persisted, 'boolean', 'getAllDownloads says whether storage is persistent');
    // Two media records go, as under storage pressure.
    const gone = await page.evaluate(
      (id) =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('offline-manager');
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction('segments', 'readwrite');
            const store = tx.objectStore('segments');
            const keys = store.getAllKeys(IDBKeyRange.bound([id], [id, []]));
            keys.onsuccess = () => {
              const media = keys.result.filter((k) => k[2] > 0).slice(1, 3);
              for (const k of media) store.delete(k);
              tx.oncomplete = () => {
                db.close();
                resolve(media.length);
              };
            };
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        }),
      id,
    );
    assert.equal(gone, 2);
    // The worker counts the records again at most a second after its last count.
    const deletedAt = Date.now();
    let evicted = await summaryOf(page, id);
    while (evicted.state === 'completed' && Date.now() - deletedAt < 3000) {
      await new Promise((r) => setTimeout(r, 100));
      evicted = await summaryOf(page, id);
    }
    assert.equal(evicted.state, 'failed', JSON.stringify(evicted));
    assert.equal(evicted.stopReason, 'evicted');
    // The error event goes to every page (Clients.matchAll) while the answer goes back on its
    // own port: it may arrive just after the answer.
    const named = (errors) => errors.some((e) => e.detail.code === 9001 && /resume it/.test(e.detail.data.message));
    let errors = [];
    for (const until = Date.now() + 5000; Date.now() < until; ) {
      errors = await page.evaluate((id) => window.eventsOf(id, 'error'), id);
      if (named(errors)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(named(errors), JSON.stringify(errors));
    const before = world.segmentRequests();
    await page.evaluate(() => {
      window.events.length = 0;
    });
    await page.evaluate((id) => window.om.resume(id), id);
    const end = await waitEnd(page, id);
    assert.equal(end.state, 'completed', JSON.stringify(end));
    assert.equal(world.segmentRequests() - before, 2, 'only the two lost segments were fetched');
    await checkStored(page, id, CONTENT_DIR);
    const verified = await page.evaluate((id) => window.om.verify(id), id);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.missing, 0);
    assert.ok(verified.records >= 4 && verified.bytes > 0, JSON.stringify(verified));
    await playOffline(page, id);
  });
});

test(`verify reads a sound title back in ${engine.name} and reports every record`, T, async () => {
  await withPage(async (page) => {
    const id = 'sound';
    await downloaded(page, id);
    const {items} = await page.evaluate((id) => window.readStore(id), id);
    const verified = await page.evaluate((id) => window.om.verify(id), id);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.unreadable, 0);
    assert.equal(verified.manifest, true);
    assert.equal(verified.state, 'completed');
    assert.equal(
      verified.bytes,
      items.reduce((n, i) => n + i.recordSize, 0),
      'every stored byte was read back',
    );
  });
});

test('a title removed right after the worker restarts stays removed', T, async (t) => {
  if (!engine.can.stopWorkers) return t.skip(`${engine.name} cannot stop its workers here: ${engine.why.stopWorkers}`);
  await withPage(async (page) => {
    const ids = ['removed-1', 'removed-2', 'removed-3'];
    for (const id of ids) await downloaded(page, id);
    const errors = [];
    for (const id of ids) {
      // A new worker instance probes every completed title 2 s after its first message
      // (PROBE_DELAY_MS in crates/engine/src/manager/integrity.rs): the probe, which runs after
      // the removal, must neither write the removed entry back nor report it evicted. (Where
      // stopping the worker takes the page away, it comes back as a fresh document: set it up
      // again.)
      await engine.stopWorkers(page);
      await page.evaluate(() => window.om || window.setup({}));
      await page.evaluate(() => window.om.getAllDownloads());
      await page.evaluate((id) => window.om.remove(id), id);
      await new Promise((r) => setTimeout(r, 3000));
      const listed = await page.evaluate(() => window.om.getAllDownloads());
      assert.equal(
        listed.find((e) => e.id === id),
        undefined,
        `${id} stays removed: ${JSON.stringify(listed.map((e) => [e.id, e.state, e.stopReason]))}`,
      );
      assert.deepEqual(await world.recordsOf(page, id), {entry: false, items: 0});
      errors.push(...(await page.evaluate(() => window.events.filter((e) => e.type === 'error').map((e) => e.detail))));
    }
    assert.deepEqual(errors, [], 'no title was reported evicted');
  });
});
