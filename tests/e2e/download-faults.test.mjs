// The download engine against a misbehaving CDN, as a user of the OfflineManager sees it: the
// page downloads through the fault proxy (tests/server/fault-proxy.mjs) in front of the media
// server, and after each download the test reads IndexedDB in the page and compares the sha-256
// of every stored segment with the origin file's bytes (tests/.content).
//
// Transient faults (500s, a dropped connection, a stalled body, a wrong Content-Length) must
// end `completed` with every byte right; a 404 or 410 must end `failed` with 9011 naming the
// URL; a CDN that answers 200 with the whole file to a Range request must still give the right
// bytes for byte-range content (SegmentList and SegmentBase).
//
// Each test has a fresh browser context (its own IndexedDB and worker); rules are cleared after.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {CONTENT_DIR} from './harness.mjs';
import {openEnginePage, startDownload, summaryOf, checkStored, startProxiedServers} from './engine-helpers.mjs';

let world;
let servers;
let browser;
let proxy;
before(async () => {
  world = await startProxiedServers();
  ({servers, browser, proxy} = world);
});
after(() => world?.stop());

const manifest = (form) => `${proxy.url}/content/${form}/manifest.mpd`;
const contentUrl = (rel) => `${proxy.url}/content/${rel}`;

/** Runs `fn(page)` in a fresh context; rules and the request log are reset around it. */
async function withPage(fn) {
  proxy.clearRules();
  proxy.resetLog();
  const {context, page} = await openEnginePage(browser, servers.app);
  try {
    await fn(page);
  } finally {
    proxy.releaseStalls();
    proxy.clearRules();
    await context.close();
  }
}

/** Downloads `form` and waits for the end state; returns {end, summary}. */
async function download(page, entryId, form, timeoutMs = 90000) {
  const started = await startDownload(page, entryId, manifest(form));
  assert.equal(started.state, 'downloading');
  const end = await page.evaluate(({id, ms}) => window.waitState(id, ['completed', 'failed'], ms), {id: entryId, ms: timeoutMs});
  return {end, summary: await summaryOf(page, entryId)};
}

/** Asserts a completed entry whose every planned segment is stored with the origin's bytes. */
async function assertCompleteAndRight(page, entryId, end, summary) {
  assert.equal(
    end.state,
    'completed',
    `ended ${JSON.stringify(end)}; errors: ${JSON.stringify(await page.evaluate((id) => window.eventsOf(id, 'error'), entryId))}`,
  );
  assert.equal(summary.state, 'completed');
  const {planned, stored, storedBytes} = await checkStored(page, entryId, CONTENT_DIR);
  assert.equal(stored.length, planned.length);
  assert.equal(summary.size, storedBytes, 'getAllDownloads size is what is stored');
  assert.equal(summary.progress, 100);
}

// ---- transient faults: the download completes with every byte right --------------------------

test('a segment answered 500 twice and then OK is stored right and the download completes', async () => {
  await withPage(async (page) => {
    const rule = proxy.addRule({match: '/template/chunk-stream0-00002.m4s', action: 'status', status: 500, times: 2});
    const {end, summary} = await download(page, 'e500', 'template');
    assert.equal(rule.hits, 2, 'both 500s were served');
    assert.equal(proxy.requestsTo('/template/chunk-stream0-00002.m4s', {faulted: false}).length, 1, 'then one good answer');
    await assertCompleteAndRight(page, 'e500', end, summary);
  });
});

test('a connection dropped mid-body is retried and the segment is stored whole', async () => {
  await withPage(async (page) => {
    const rule = proxy.addRule({match: '/template/chunk-stream0-00003.m4s', action: 'drop', afterBytes: 40000, times: 1});
    const {end, summary} = await download(page, 'edrop', 'template');
    assert.equal(rule.hits, 1);
    await assertCompleteAndRight(page, 'edrop', end, summary);
  });
});

test('a body that stalls after its headers is given up on, fetched again and stored whole', async () => {
  await withPage(async (page) => {
    const rule = proxy.addRule({match: '/template/chunk-stream0-00004.m4s', action: 'stall', afterBytes: 20000, times: 1});
    const {end, summary} = await download(page, 'estall', 'template', 170000);
    assert.equal(rule.hits, 1);
    assert.equal(proxy.requestsTo('/template/chunk-stream0-00004.m4s', {faulted: false}).length, 1, 'fetched again');
    await assertCompleteAndRight(page, 'estall', end, summary);
  });
});

// ---- permanent faults: the download fails with 9011 naming the URL ---------------------------

for (const status of [404, 410]) {
  test(`a segment answered ${status} fails the download with 9011 naming its URL`, async () => {
    await withPage(async (page) => {
      const rel = 'template/chunk-stream0-00005.m4s';
      proxy.addRule({match: `/${rel}`, action: 'status', status});
      const {end, summary} = await download(page, `e${status}`, 'template');
      assert.equal(end.state, 'failed');
      assert.equal(summary.state, 'failed');
      const e = await page.evaluate((id) => window.waitError(id), `e${status}`);
      assert.equal(e.code, 9011);
      assert.equal(e.category, 9);
      assert.equal(e.data.url, contentUrl(rel));
      assert.equal(e.data.status, status);
      assert.ok(e.data.message.includes(contentUrl(rel)), e.data.message);
      // What was stored before the failure is still right.
      await checkStored(page, `e${status}`, CONTENT_DIR, {complete: false});
    });
  });
}

// ---- wrong Content-Length: never a short or wrong segment -------------------------------------

/** Ends completed with every byte right, or failed with 9011: never completed with a wrong byte. */
async function assertRightOrFailed(page, entryId, end, summary) {
  if (end.state === 'failed') {
    const e = await page.evaluate((id) => window.waitError(id), entryId);
    assert.equal(e.code, 9011, JSON.stringify(e));
    await checkStored(page, entryId, CONTENT_DIR, {complete: false});
    return;
  }
  await assertCompleteAndRight(page, entryId, end, summary);
}

test('a body shorter than its Content-Length is not stored: the download ends right', async () => {
  await withPage(async (page) => {
    const rule = proxy.addRule({match: '/template/chunk-stream0-00002.m4s', action: 'length', lengthDelta: 5000, times: 2});
    const {end, summary} = await download(page, 'elong', 'template');
    assert.ok(rule.hits >= 1, 'the fault was served');
    await assertRightOrFailed(page, 'elong', end, summary);
  });
});

test('a byte range answered with more bytes announced than sent is not stored short', async () => {
  await withPage(async (page) => {
    const rule = proxy.addRule({match: '/list/manifest-stream0.mp4', action: 'length', lengthDelta: 3000, times: 2});
    const {end, summary} = await download(page, 'elistlong', 'list');
    assert.ok(rule.hits >= 1, 'the fault was served');
    await assertRightOrFailed(page, 'elistlong', end, summary);
  });
});

/** The second SegmentURL's mediaRange of the first representation (the encoder picks the offsets). */
function secondMediaRange(mpdPath) {
  const ranges = [...fs.readFileSync(mpdPath, 'utf8').matchAll(/<SegmentURL mediaRange="(\d+-\d+)"/g)];
  assert.ok(ranges.length >= 2, `${mpdPath} has a SegmentList of byte ranges`);
  return ranges[1][1];
}

// A Content-Length smaller than the file reads, to any client, as a complete shorter file: it can
// only be caught where the plan knows the size, i.e. for byte ranges.
test('a byte range cut short by a too small Content-Length is not stored short', async () => {
  await withPage(async (page) => {
    const range = `bytes=${secondMediaRange(path.join(CONTENT_DIR, 'list', 'manifest.mpd'))}`;
    const rule = proxy.addRule({
      match: (req) => req.url === '/content/list/manifest-stream0.mp4' && req.headers.range === range,
      action: 'length',
      lengthDelta: -2000,
      times: 2,
    });
    const {end, summary} = await download(page, 'elistshort', 'list');
    assert.ok(rule.hits >= 1, 'the fault was served');
    await assertRightOrFailed(page, 'elistshort', end, summary);
  });
});

// ---- a CDN that ignores Range ------------------------------------------------------------------

for (const form of ['list', 'base']) {
  test(`${form}: a CDN answering 200 with the whole file to Range requests still gives the right bytes`, async () => {
    await withPage(async (page) => {
      const rule = proxy.addRule({match: `/content/${form}/manifest-stream`, action: 'ignore-range'});
      const {end, summary} = await download(page, `e200${form}`, form);
      assert.ok(rule.hits > 0, 'Range requests were answered 200');
      assert.ok(
        proxy.requestsTo(`/content/${form}/manifest-stream`).every((r) => r.range),
        'every segment request asked for a range',
      );
      await assertCompleteAndRight(page, `e200${form}`, end, summary);
    });
  });
}
