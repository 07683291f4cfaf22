// Two engine rules in the browser: (1) a segment longer than 8 MiB (a single-file SegmentList
// byte range) is stored in chunks no bigger than 8 MiB and served back whole, Range requests
// across the chunk boundary included; (2) when the browser goes offline mid-download the entry
// pauses with reason `network`, and when the network returns it resumes and completes by itself,
// with no call from the app; (3) downloads bypass the HTTP cache (the bytes are kept once, in
// IndexedDB).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {openEnginePage, startDownload, checkStored, sha256, startContentWorld, templateMpd} from './engine-helpers.mjs';

const MiB = 1024 * 1024;
const BIG = 9 * MiB + 12345; // one media segment, over the 8 MiB chunk
const INIT = 1000;
const SMALL_SEGMENTS = 30;

/** One representation in one file: an init range and one long media range. */
const BIG_MPD = `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT2S"
  profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4" codecs="avc1.4d401e">
      <Representation id="v" bandwidth="20000000" width="640" height="360">
        <BaseURL>video.mp4</BaseURL>
        <SegmentList timescale="1" duration="4">
          <Initialization range="0-${INIT - 1}"/>
          <SegmentURL mediaRange="${INIT}-${INIT + BIG - 1}"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`;

let world;
let dir;
let app;
let media;
let proxy;
let browser;
before(async () => {
  world = await startContentWorld((put) => {
    put('big/manifest.mpd', BIG_MPD);
    put('big/video.mp4', crypto.randomBytes(INIT + BIG));
    put('small/manifest.mpd', templateMpd(SMALL_SEGMENTS));
    put('small/init.m4s', crypto.randomBytes(700));
    for (let n = 1; n <= SMALL_SEGMENTS; n++) put(`small/seg-${n}.m4s`, crypto.randomBytes(20_000));
  });
  ({dir, app, media, proxy, browser} = world);
});
after(() => world?.stop());

test('a segment over 8 MiB is stored in 8 MiB chunks and served whole, ranges across chunks included', {timeout: 120_000}, async () => {
  const {context, page} = await openEnginePage(browser, app);
  try {
    await startDownload(page, 'big', `${media.url}/content/big/manifest.mpd`, {});
    const end = await page.evaluate(() => window.waitState('big', ['completed', 'failed'], 90000));
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const {stored} = await checkStored(page, 'big', dir);
    const media1 = stored.find((i) => i.index === 1);
    assert.deepEqual(media1.chunks, [0, 1], 'two chunks');
    assert.ok(
      media1.sources.every((s) => s.range[1] - s.range[0] + 1 <= 8 * MiB),
      JSON.stringify(media1.sources),
    );

    const origin = fs.readFileSync(path.join(dir, 'big/video.mp4')).subarray(INIT, INIT + BIG);
    const served = await page.evaluate(async () => {
      const url = `${location.origin}/__offline__/big/p0a0r0/1`;
      const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const cut = 8 * 1024 * 1024;
      const r = await fetch(url, {headers: {Range: `bytes=${cut - 10}-${cut + 9}`}});
      return {
        whole: Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', whole)), (b) => b.toString(16).padStart(2, '0')).join(''),
        length: whole.length,
        status: r.status,
        contentRange: r.headers.get('Content-Range'),
        part: Array.from(new Uint8Array(await r.arrayBuffer())),
      };
    });
    assert.equal(served.length, BIG);
    assert.equal(served.whole, sha256(origin), 'served whole, byte for byte');
    const cut = 8 * MiB;
    assert.equal(served.status, 206);
    assert.equal(served.contentRange, `bytes ${cut - 10}-${cut + 9}/${BIG}`);
    assert.deepEqual(served.part, Array.from(origin.subarray(cut - 10, cut + 10)));
  } finally {
    await context.close();
  }
});

test('going offline mid-download pauses with reason network; the download resumes and completes when the network returns', {timeout: 180_000}, async () => {
  const rule = proxy.addRule({match: '/content/small/seg-', action: 'delay', delayMs: 400});
  const {context, page} = await openEnginePage(browser, app);
  try {
    await startDownload(page, 'net', `${proxy.url}/content/small/manifest.mpd`, {});
    await page.evaluate(() => window.waitState('net', ['downloading'], 30000));
    await page.waitForFunction(() => window.eventsOf('net', 'progress').some((e) => e.detail.segmentsDone >= 5), null, {timeout: 60000});
    await context.setOffline(true);
    const paused = await page.evaluate(() => window.waitState('net', ['paused', 'failed', 'completed'], 60000));
    assert.deepEqual([paused.state, paused.stopReason], ['paused', 'network'], JSON.stringify(paused));
    await context.setOffline(false); // no call from the app: the worker resumes on its own
    const end = await page.evaluate(() => window.waitState('net', ['completed', 'failed'], 90000));
    assert.equal(end.state, 'completed', JSON.stringify(end));
    await checkStored(page, 'net', dir);
  } finally {
    proxy.removeRule(rule);
    await context.close();
  }
});

test('downloaded segments are not kept a second time in the browser HTTP cache', {timeout: 120_000}, async () => {
  const {context, page} = await openEnginePage(browser, app);
  try {
    await startDownload(page, 'nocache', `${media.url}/content/small/manifest.mpd`, {});
    assert.equal((await page.evaluate(() => window.waitState('nocache', ['completed', 'failed'], 90000))).state, 'completed');
    media.resetLog();
    // force-cache takes any stored response, however old: a request reaching the server means
    // the HTTP cache had none. seg-2 fetched twice by the page shows the cache works here.
    await page.evaluate(async (base) => {
      for (const rel of ['seg-1.m4s', 'seg-2.m4s', 'seg-2.m4s']) await (await fetch(`${base}/${rel}`, {cache: 'force-cache'})).arrayBuffer();
    }, `${media.url}/content/small`);
    const asked = media.requests.filter((r) => r.method === 'GET').map((r) => r.url);
    assert.deepEqual(asked, ['/content/small/seg-1.m4s', '/content/small/seg-2.m4s']);
  } finally {
    await context.close();
  }
});

test('a stopped worker answers its first requests right: a whole segment, a range, a chunked segment, a missing one', {timeout: 120_000}, async () => {
  const {context, page} = await openEnginePage(browser, app);
  try {
    await startDownload(page, 'cold', `${media.url}/content/big/manifest.mpd`, {});
    assert.equal((await page.evaluate(() => window.waitState('cold', ['completed', 'failed'], 90000))).state, 'completed');
    const file = fs.readFileSync(path.join(dir, 'big/video.mp4'));
    const cdp = await context.newCDPSession(page);
    const coldFetch = async (rel, headers = {}) => {
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      return page.evaluate(
        async ({rel, headers}) => {
          const r = await fetch(`${location.origin}/__offline__/cold/${rel}`, {headers});
          const bytes = new Uint8Array(await r.arrayBuffer());
          const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
          return {
            status: r.status,
            length: bytes.length,
            sha: hex(await crypto.subtle.digest('SHA-256', bytes)),
            type: r.headers.get('Content-Type'),
            contentRange: r.headers.get('Content-Range'),
          };
        },
        {rel, headers},
      );
    };
    const init = await coldFetch('p0a0r0/0');
    assert.deepEqual([init.status, init.length, init.sha], [200, INIT, sha256(file.subarray(0, INIT))]);
    const part = await coldFetch('p0a0r0/0', {Range: 'bytes=10-19'});
    assert.deepEqual([part.status, part.contentRange, part.sha], [206, `bytes 10-19/${INIT}`, sha256(file.subarray(10, 20))]);
    const big = await coldFetch('p0a0r0/1');
    assert.deepEqual([big.status, big.length, big.sha], [200, BIG, sha256(file.subarray(INIT, INIT + BIG))]);
    const missing = await coldFetch('p0a0r0/7');
    assert.equal(missing.status, 404);
  } finally {
    await context.close();
  }
});

test('a segment redirected to another origin fails with 9011 naming it, unless the app allowed that origin', {timeout: 120_000}, async () => {
  // The proxy is the manifest's origin; the media server behind it is another origin.
  const rule = proxy.addRule({match: '/content/small/seg-3.m4s', action: 'redirect', location: (req) => `${media.url}${req.url}`});
  const {context, page} = await openEnginePage(browser, app);
  try {
    await startDownload(page, 'away', `${proxy.url}/content/small/manifest.mpd`, {});
    const failed = await page.evaluate(() => window.waitState('away', ['failed', 'completed'], 60000));
    assert.equal(failed.state, 'failed');
    const error = await page.evaluate(() => window.waitError('away'));
    assert.equal(error.code, 9011);
    assert.equal(error.data.url, `${proxy.url}/content/small/seg-3.m4s`);
    assert.match(error.data.message, new RegExp(`redirected to another origin \\(${media.url.replace(/[.]/g, '\\.')}\\)`));

    await startDownload(page, 'allowed', `${proxy.url}/content/small/manifest.mpd`, {redirectOrigins: [media.url]});
    const done = await page.evaluate(() => window.waitState('allowed', ['failed', 'completed'], 60000));
    assert.equal(done.state, 'completed', JSON.stringify(done));
    await checkStored(page, 'allowed', dir);
  } finally {
    proxy.removeRule(rule);
    await context.close();
  }
});
