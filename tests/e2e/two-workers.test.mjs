// Two workers of one origin share one database: here a second registration (another scope) wakes
// while the first one downloads, and finds the job unfinished. The per-job Web Lock must keep it
// from running the same job: every segment is requested once, and the download completes.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {openEnginePage, startDownload, checkStored, startContentWorld, templateMpd} from './engine-helpers.mjs';

const SEGMENTS = 40;

let world;
before(async () => {
  world = await startContentWorld((put) => {
    put('s/manifest.mpd', templateMpd(SEGMENTS));
    put('s/init.m4s', crypto.randomBytes(700));
    for (let n = 1; n <= SEGMENTS; n++) put(`s/seg-${n}.m4s`, crypto.randomBytes(10_000));
  });
});
after(() => world?.stop());

test('a second worker of the origin waking mid-download does not run the same job: each segment is fetched once', {timeout: 120_000}, async () => {
  const {app, proxy, browser, dir} = world;
  const rule = proxy.addRule({match: '/content/s/seg-', action: 'delay', delayMs: 300});
  const {context, page} = await openEnginePage(browser, app);
  try {
    await startDownload(page, 'shared', `${proxy.url}/content/s/manifest.mpd`, {});
    await page.waitForFunction(() => window.eventsOf('shared', 'progress').some((e) => e.detail.segmentsDone >= 3), null, {timeout: 60000});
    // A second registration of the same worker script, under another scope: a second worker
    // over the same IndexedDB. Its activation (and this message) wake it; it sees the entry
    // still downloading.
    const second = await page.evaluate(async () => {
      const om2 = new window.OfflineManager({scope: `${location.origin}/pages/second/`});
      const list = await om2.getAllDownloads();
      const regs = await navigator.serviceWorker.getRegistrations();
      return {seen: list.find((e) => e.id === 'shared')?.state, scopes: regs.map((r) => r.scope).sort()};
    });
    assert.equal(second.seen, 'downloading', 'the second worker sees the job unfinished');
    assert.equal(second.scopes.length, 2, `two registrations: ${second.scopes}`);
    const end = await page.evaluate(() => window.waitState('shared', ['completed', 'failed'], 90000));
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const fetched = proxy.requests.filter((r) => r.url.startsWith('/content/s/seg-')).map((r) => r.url);
    const twice = fetched.filter((u, i) => fetched.indexOf(u) !== i);
    assert.deepEqual(twice, [], 'no segment was fetched by both workers');
    assert.equal(new Set(fetched).size, SEGMENTS);
    await checkStored(page, 'shared', dir);
  } finally {
    proxy.removeRule(rule);
    await context.close();
  }
});
