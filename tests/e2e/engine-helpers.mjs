// Shared pieces of the download-engine tests (download-faults, worker-kill, quota): a page with
// the OfflineManager and an IndexedDB reader (tests/pages/engine.html), and the check that what
// the worker stored is, byte for byte, what the origin serves for the entry's plan.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startAppServer} from '../server/app-server.mjs';
import {resolveInside} from '../server/http.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';
import {launch, openPage, ROOT, startServers} from './harness.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Opens engine.html on the app origin in a fresh context, with `window.om` built from `options`. */
export async function openEnginePage(browser, app, options = {}) {
  const opened = await openPage(browser, app, '/pages/engine.html');
  await opened.page.evaluate((o) => window.setup(o), options);
  return opened;
}

/** In the page: getMediaConfig for a plain config with one DASH source, then download. */
export async function startDownload(page, entryId, manifestUrl, options = {bitrate: 400000}) {
  await page.evaluate(({entryId, url}) => window.om.getMediaConfig({entryId, sources: {dash: [{url}]}, metadata: {name: entryId}}), {
    entryId,
    url: manifestUrl,
  });
  return page.evaluate(({entryId, options}) => window.om.download(entryId, options), {entryId, options});
}

/** In the page: the entry's summary from getAllDownloads. */
export async function summaryOf(page, entryId) {
  const all = await page.evaluate(() => window.om.getAllDownloads());
  return all.find((e) => e.id === entryId);
}

/** The bytes the origin serves for `url` (a `/content/...` URL of a server over `contentDir`). */
export function originBytes(contentDir, url, range) {
  const {pathname} = new URL(url);
  assert.ok(pathname.startsWith('/content/'), `not a content URL: ${url}`);
  const file = resolveInside(contentDir, pathname.slice('/content/'.length));
  assert.ok(file, `unsafe content URL: ${url}`);
  const bytes = fs.readFileSync(file);
  return range ? bytes.subarray(range[0], range[1] + 1) : bytes;
}

/** Every item the plan expects: init at index 0 (unless shared from an earlier track: `initFrom`), media segments from 1. */
export function plannedItems(plan) {
  const items = [];
  for (const t of plan.tracks) {
    if (t.init && !t.initFrom) items.push({track: t.key, index: 0, url: t.init.url, range: t.init.range ?? null});
    for (const [k, s] of t.segments.entries()) items.push({track: t.key, index: k + 1, url: s.url, range: s.range ?? null});
  }
  return items;
}

/** Where a stored item came from: one (url, range) even when it is stored in several chunks. */
export function sourceOf(item) {
  const [first] = item.sources;
  if (item.sources.length === 1) return {url: first.url, range: first.range};
  const last = item.sources.at(-1);
  return {url: first.url, range: first.range && last.range ? [first.range[0], last.range[1]] : null};
}

const keyOf = (i) => `${i.track}/${i.index}`;

/**
 * Reads IndexedDB in the page and asserts that every stored segment of `entryId` is whole and
 * right: chunks 0..n-1, record sizes equal to blob sizes, a source the plan lists, and the
 * sha-256 of the origin's bytes for that source. With `complete`, also that nothing planned
 * is missing. Returns {entry, planned, stored, storedBytes}.
 */
export async function checkStored(page, entryId, contentDir, {complete = true} = {}) {
  const {entry, items} = await page.evaluate((id) => window.readStore(id), entryId);
  assert.ok(entry, `entry ${entryId} is in IndexedDB`);
  assert.ok(entry.plan, `entry ${entryId} has a plan`);
  const planned = plannedItems(entry.plan);
  const plannedByKey = new Map(planned.map((p) => [keyOf(p), p]));
  const stored = items.filter((i) => i.track !== 'poster');
  const seen = new Set();
  for (const item of stored) {
    const key = keyOf(item);
    assert.ok(!seen.has(key), `${key} stored once`);
    seen.add(key);
    const plan = plannedByKey.get(key);
    assert.ok(plan, `${key} is in the plan`);
    assert.deepEqual(
      item.chunks,
      item.chunks.map((_, i) => i),
      `${key} chunks are 0..n-1`,
    );
    assert.equal(item.recordSize, item.blobSize, `${key} record sizes add up to its bytes`);
    const source = sourceOf(item);
    const expectRange = plan.range ?? (item.sources.length > 1 ? [0, item.blobSize - 1] : null);
    assert.deepEqual(source, {url: plan.url, range: expectRange}, `${key} came from its planned source`);
    const want = originBytes(contentDir, plan.url, plan.range);
    assert.equal(item.blobSize, want.length, `${key} (${plan.url} ${JSON.stringify(plan.range)}) has the origin's length`);
    assert.equal(item.sha256, sha256(want), `${key} (${plan.url} ${JSON.stringify(plan.range)}) has the origin's bytes`);
  }
  if (complete) {
    const missing = planned.filter((p) => !seen.has(keyOf(p))).map(keyOf);
    assert.deepEqual(missing, [], 'no planned segment is missing');
  }
  const storedBytes = stored.reduce((n, i) => n + i.recordSize, 0);
  return {entry, planned, stored, storedBytes};
}

/**
 * Content written by `write(put)` (put(relPath, bytes)) into a fresh temporary directory, served
 * by a media server behind a fault proxy, with the app server and Chromium. `stop()` removes it all.
 */
export async function startContentWorld(write) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-engine-'));
  write((rel, bytes) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), {recursive: true});
    fs.writeFileSync(path.join(dir, rel), bytes);
  });
  const app = await startAppServer({root: ROOT});
  const media = await startMediaServer({contentDir: dir});
  const proxy = await startFaultProxy({target: media.url});
  const browser = await launch();
  return {
    dir,
    app,
    media,
    proxy,
    browser,
    async stop() {
      await browser.close();
      await proxy.stop();
      await media.stop();
      await app.stop();
      fs.rmSync(dir, {recursive: true, force: true});
    },
  };
}

/**
 * The harness servers (tests/.content), a fault proxy in front of their media server (followed
 * when a test restarts it) and Chromium, with one stop().
 */
export async function startProxiedServers() {
  const servers = await startServers();
  const browser = await launch();
  const proxy = await startFaultProxy({target: () => servers.media.url});
  return {
    servers,
    browser,
    proxy,
    async stop() {
      await browser.close();
      await proxy.stop();
      await servers.stop();
    },
  };
}

/** A static SegmentTemplate MPD of `segments` 2 s segments (init.m4s, seg-1.m4s, ...), for random-byte content. */
export function templateMpd(segments) {
  return `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT${segments * 2}S" minBufferTime="PT2S"
  profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1" duration="2" startNumber="1" initialization="init.m4s" media="seg-$Number$.m4s"/>
      <Representation id="v" codecs="avc1.4d401e" bandwidth="100000" width="640" height="360"/>
    </AdaptationSet>
  </Period>
</MPD>`;
}
