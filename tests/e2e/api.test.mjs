// The OfflineManager API end to end, in headless Chromium with a plain config (no provider):
// what every method resolves to, the error codes a user can trigger (each a rejection AND an
// 'error' event), events shared by several tabs, and a download that survives a page reload.
// Each test has a fresh browser context (its own IndexedDB and service worker).
//
// The page reaches the media server through a small delaying proxy (this file), so that a
// download lasts long enough to pause or reload it; the proxy forwards each request at once
// (the media server's request log sees it when the worker sends it) and holds the response
// back for `proxy.delayMs`. It also serves two bad manifests (live, malformed).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {startHttpServer} from '../server/http.mjs';
import {startServers, launch, openPage} from './harness.mjs';

// A live manifest (after the corpus's dashif-live-atoinf.mpd) and a truncated one (the corpus's
// incomplete.mpd), inline so that the test needs no file outside the repository.
const FIXTURES = {
  '/fixture/live/manifest.mpd': `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"
  availabilityStartTime="1970-01-01T00:00:00Z" publishTime="1970-01-01T00:00:00Z" minimumUpdatePeriod="PT2S"
  minBufferTime="PT2S" timeShiftBufferDepth="PT1M" maxSegmentDuration="PT2S">
  <Period id="p0" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate duration="2" timescale="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s" startNumber="0"/>
      <Representation id="v0" codecs="avc1.64001e" width="640" height="360" bandwidth="400000"/>
    </AdaptationSet>
  </Period>
</MPD>
`,
  '/fixture/incomplete/manifest.mpd': `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT6M16S" minBufferTime="PT1.97S">
`,
};

let servers;
let browser;
let proxy;
before(async () => {
  servers = await startServers();
  browser = await launch();
  proxy = await startProxy(() => servers.media.url);
});
after(async () => {
  await browser?.close();
  await proxy?.stop();
  await servers?.stop();
});

/** A forwarding proxy that delays responses by `delayMs` (settable) and serves FIXTURES. */
async function startProxy(target) {
  const state = {delayMs: 0};
  const server = await startHttpServer((req, res) => {
    const fixture = FIXTURES[req.url];
    if (fixture) {
      res.writeHead(200, {'Content-Type': 'application/dash+xml', 'Access-Control-Allow-Origin': '*'});
      res.end(fixture);
      return;
    }
    const delay = req.url.endsWith('.mpd') ? 0 : state.delayMs;
    const up = http.request(`${target()}${req.url}`, {method: req.method, headers: {...req.headers, host: new URL(target()).host}}, (upRes) => {
      setTimeout(() => {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
      }, delay);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return Object.assign(state, {url: server.url, stop: server.stop});
}

const manifest = (form) => `${proxy.url}/content/${form}/manifest.mpd`;
const segmentRequests = () => servers.media.requests.filter((r) => r.url.startsWith('/content/') && !r.url.endsWith('.mpd')).length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn(page, context)` on a fresh context with api.html loaded and `window.om` set up. */
async function withPage(fn, {delayMs = 0} = {}) {
  proxy.delayMs = delayMs;
  const {context, page, log} = await openPage(browser, servers.app, '/pages/api.html');
  try {
    await page.evaluate(() => window.setup());
    await fn(page, context, log);
  } finally {
    proxy.delayMs = 0;
    await context.close();
  }
}

/** In the page: getMediaConfig with a plain config for `form`. */
function prepare(page, entryId, form = 'template') {
  return page.evaluate(
    ({entryId, url}) =>
      window.om.getMediaConfig({entryId, sources: {dash: [{url}]}, metadata: {name: entryId}, poster: 'https://example.invalid/p.jpg', duration: 12}),
    {entryId, url: manifest(form)},
  );
}

/** In the page: prepare, download, and wait for 'completed'. */
async function downloadToEnd(page, entryId, form = 'template') {
  await prepare(page, entryId, form);
  await page.evaluate((id) => window.om.download(id, {bitrate: 400000}), entryId);
  await page.evaluate((id) => window.waitEvent('statechange', id, 'completed'), entryId);
}

/** Calls om[name](...args) in the page; asserts a category-9 rejection with `code` that was also dispatched as an 'error' event. */
async function expectError(page, code, name, ...args) {
  const r = await page.evaluate(({name, args}) => window.attempt(name, ...args), {name, args});
  assert.ok(r.rejected, `${name}(${args.join(', ')}) should reject ${code}, resolved ${JSON.stringify(r.resolved)}`);
  const e = r.rejected;
  assert.equal(e.code, code, JSON.stringify(e));
  assert.equal(e.category, 9);
  assert.ok(e.severity === 1 || e.severity === 2, `severity ${e.severity}`);
  assert.equal(typeof e.data?.message, 'string');
  assert.ok(e.data.message.length > 0);
  assert.ok(r.sameObject, `the rejection was dispatched as an 'error' event: ${JSON.stringify(r.errorEvents)}`);
  return e;
}

// ---- API methods -------------------------------------------------------------------------

test('getMediaConfig resolves with the plain config, and the worker keeps it across a reload', async () => {
  await withPage(async (page) => {
    const config = await prepare(page, 'keep-1');
    assert.equal(config.id, 'keep-1');
    assert.equal(config.sources.dash[0].url, manifest('template'));
    assert.deepEqual(config.metadata, {name: 'keep-1'});
    await page.reload();
    await page.evaluate(() => window.setup());
    const summary = await page.evaluate(() => window.om.download('keep-1', {bitrate: 400000}));
    assert.ok(['downloading', 'completed'].includes(summary.state), summary.state);
    await page.evaluate(() => window.waitEvent('statechange', 'keep-1', 'completed'));
  });
});

test('download resolves with the entry summary in state downloading', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'dl-1');
      const summary = await page.evaluate(() => window.om.download('dl-1', {bitrate: 400000}));
      assert.equal(summary.state, 'downloading');
      assert.equal(summary.id ?? summary.entryId, 'dl-1');
      await page.evaluate(() => window.waitEvent('statechange', 'dl-1', 'completed'));
    },
    {delayMs: 50},
  );
});

test('pause stops requests and keeps progress; resume completes the download', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'pause-1');
      await page.evaluate(() => window.om.download('pause-1', {bitrate: 400000}));
      await page.evaluate(() => window.waitEvent('progress', 'pause-1', 1));
      const paused = await page.evaluate(() => window.om.pause('pause-1'));
      assert.equal(paused.state, 'paused');
      assert.equal(paused.stopReason, 'user');
      await page.evaluate(() => window.waitEvent('statechange', 'pause-1', 'paused'));
      await sleep(600); // responses of abandoned in-flight requests arrive
      const requestsAfterSettle = segmentRequests();
      const [item] = await page.evaluate(() => window.om.getAllDownloads());
      assert.equal(item.state, 'paused');
      assert.ok(item.progress > 0 && item.progress < 100, `progress ${item.progress}`);
      await sleep(1000);
      assert.equal(segmentRequests(), requestsAfterSettle, 'no segment request while paused');
      const [later] = await page.evaluate(() => window.om.getAllDownloads());
      if (process.env.E2E_VERBOSE) console.log('pause', {paused, item, later, requestsAfterSettle, now: segmentRequests()});
      assert.ok(item.progress >= paused.progress, 'progress at pause kept');
      assert.equal(later.progress, item.progress, 'progress kept while paused');
      assert.equal(later.size, item.size);

      const resumed = await page.evaluate(() => window.om.resume('pause-1'));
      assert.equal(resumed.state, 'downloading');
      await page.evaluate(() => window.waitEvent('statechange', 'pause-1', 'completed'));
      const [done] = await page.evaluate(() => window.om.getAllDownloads());
      assert.equal(done.state, 'completed');
      assert.equal(done.progress, 100);
    },
    {delayMs: 250},
  );
});

test('remove resolves {entryId}, forgets the entry and its local manifest answers 404', async () => {
  await withPage(async (page) => {
    await downloadToEnd(page, 'rm-1');
    const local = (await page.evaluate(() => window.om.getDownloadedMediaConfig('rm-1'))).sources.dash[0].url;
    assert.equal(await page.evaluate((u) => fetch(u).then((r) => r.status), local), 200);
    assert.deepEqual(await page.evaluate(() => window.om.remove('rm-1')), {entryId: 'rm-1'});
    assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
    assert.equal(await page.evaluate((u) => fetch(u).then((r) => r.status), local), 404);
  });
});

test('remove of a running download cancels it: no more requests, events or records', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'rm-run');
      await page.evaluate(() => window.om.download('rm-run', {bitrate: 400000}));
      await page.evaluate(() => window.waitEvent('progress', 'rm-run', 1));
      assert.deepEqual(await page.evaluate(() => window.om.remove('rm-run')), {entryId: 'rm-run'});
      const eventsAtRemove = await page.evaluate(() => window.events.length);
      await sleep(600);
      const requestsAfterSettle = segmentRequests();
      await sleep(1000);
      assert.equal(segmentRequests(), requestsAfterSettle, 'no segment request after remove');
      assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
      const late = await page.evaluate((n) => window.events.slice(n).filter((e) => e.detail.entryId === 'rm-run' && e.type !== 'error'), eventsAtRemove);
      assert.deepEqual(late, [], 'no progress or statechange for a removed entry');
      assert.equal(await page.evaluate(() => fetch('/__offline__/rm-run/manifest.mpd').then((r) => r.status)), 404);
    },
    {delayMs: 250},
  );
});

test('pauseAll and removeAll resolve with the entry ids they touched', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'all-1');
      await prepare(page, 'all-2', 'timeline');
      await page.evaluate(() => window.om.download('all-1', {bitrate: 400000}));
      await page.evaluate(() => window.om.download('all-2', {bitrate: 400000}));
      const paused = await page.evaluate(() => window.om.pauseAll());
      assert.deepEqual([...paused.entryIds].sort(), ['all-1', 'all-2']);
      const states = (await page.evaluate(() => window.om.getAllDownloads())).map((e) => e.state);
      assert.deepEqual(states, ['paused', 'paused']);
      const removed = await page.evaluate(() => window.om.removeAll());
      assert.deepEqual([...removed.entryIds].sort(), ['all-1', 'all-2']);
      assert.deepEqual(await page.evaluate(() => window.om.getAllDownloads()), []);
    },
    {delayMs: 300},
  );
});

test('getDownloadedMediaConfig, getAllDownloads and getExpiration describe a completed entry', async () => {
  await withPage(async (page) => {
    await downloadToEnd(page, 'info-1');
    const cfg = await page.evaluate(() => window.om.getDownloadedMediaConfig('info-1'));
    const [src] = cfg.sources.dash;
    assert.equal(src.isLocal, true);
    assert.equal(src.localSource, true);
    assert.equal(src.mimetype, 'application/dash+xml');
    assert.ok(src.url.startsWith(`${servers.app.url}/__offline__/`), src.url);
    assert.equal(cfg.state, 'completed');
    assert.equal(cfg.expiration, null);
    assert.ok(cfg.size > 0);

    const all = await page.evaluate(() => window.om.getAllDownloads());
    assert.equal(all.length, 1);
    const item = all[0];
    for (const key of ['id', 'metadata', 'poster', 'expectedSize', 'size', 'expiration', 'duration', 'state']) {
      assert.ok(key in item, `getAllDownloads item has ${key}: ${JSON.stringify(item)}`);
    }
    assert.equal(item.id, 'info-1');
    assert.deepEqual(item.metadata, {name: 'info-1'});
    assert.equal(item.poster, 'https://example.invalid/p.jpg');
    assert.equal(item.duration, 12);
    assert.equal(item.state, 'completed');
    assert.equal(item.expiration, null);
    assert.ok(item.size > 0 && item.expectedSize > 0, JSON.stringify(item));
    assert.equal(item.size, cfg.size);

    assert.equal(await page.evaluate(() => window.om.getExpiration('info-1')), null);
    await expectError(page, 9016, 'renewLicense', 'info-1');
  });
});

test('addEventListener delivers events and a removed listener gets nothing', async () => {
  await withPage(async (page) => {
    await prepare(page, 'ev-1');
    const counts = await page.evaluate(async () => {
      const om = window.om;
      const kept = [];
      const removed = [];
      const keep = (e) => kept.push(e.type ?? e.payload?.detail?.state);
      const drop = () => removed.push(1);
      for (const t of ['progress', 'statechange', 'error']) {
        om.addEventListener(t, keep);
        om.addEventListener(t, drop);
        om.removeEventListener(t, drop);
      }
      await om.download('ev-1', {bitrate: 400000});
      await window.waitEvent('statechange', 'ev-1', 'completed');
      await om.pause('never-prepared').catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
      return {kept: kept.length, removed: removed.length};
    });
    assert.ok(counts.kept >= 3, `kept listener got ${counts.kept}`);
    assert.equal(counts.removed, 0);
  });
});

// ---- error codes -------------------------------------------------------------------------

test('9013 for download, pause and remove of an entry never prepared', async () => {
  await withPage(async (page) => {
    for (const m of ['download', 'pause', 'remove']) {
      const e = await expectError(page, 9013, m, 'nobody');
      assert.equal(e.data.entryId ?? 'nobody', 'nobody');
    }
  });
});

test('9003 getDownloadedMediaConfig of an entry not downloaded yet; a paused download gives a playable config', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'e9003');
      await expectError(page, 9003, 'getDownloadedMediaConfig', 'e9003');
      await page.evaluate(() => window.om.download('e9003', {bitrate: 400000}));
      await page.evaluate(() => window.om.pause('e9003'));
      const config = await page.evaluate(() => window.om.getDownloadedMediaConfig('e9003'));
      assert.equal(config.state, 'paused');
      assert.equal(config.sources.dash[0].isLocal, true);
    },
    {delayMs: 300},
  );
});

test('9005 for a live manifest, 9010 for a malformed one, 9011 for one that 404s', async () => {
  await withPage(async (page) => {
    const attemptPlain = (id, url) =>
      page.evaluate(
        async ({id, url}) => {
          const get = await window.attempt('getMediaConfig', {entryId: id, sources: {dash: [{url}]}});
          return get.rejected ? get : window.attempt('download', id, {bitrate: 400000});
        },
        {id, url},
      );
    const check = async (r, code) => {
      assert.ok(r.rejected, `rejects ${code}: ${JSON.stringify(r)}`);
      assert.equal(r.rejected.code, code, JSON.stringify(r.rejected));
      assert.equal(r.rejected.category, 9);
      assert.equal(typeof r.rejected.data.message, 'string');
      assert.ok(r.sameObject, `dispatched as an 'error' event: ${JSON.stringify(r.errorEvents)}`);
      return r.rejected;
    };
    await check(await attemptPlain('live', `${proxy.url}/fixture/live/manifest.mpd`), 9005);
    await check(await attemptPlain('broken', `${proxy.url}/fixture/incomplete/manifest.mpd`), 9010);
    const missing = `${proxy.url}/content/nothing-here/manifest.mpd`;
    const e = await check(await attemptPlain('missing', missing), 9011);
    assert.equal(e.data.url, missing);
    assert.equal(e.data.status, 404);
  });
});

test('9009 for a config without a DASH source', async () => {
  await withPage(async (page) => {
    await expectError(page, 9009, 'getMediaConfig', {entryId: 'hls-only', sources: {hls: [{url: `${proxy.url}/x.m3u8`}]}});
  });
});

test('9017 download of a completed entry, 9014 pause of it', async () => {
  await withPage(async (page) => {
    await downloadToEnd(page, 'done-1');
    await expectError(page, 9017, 'download', 'done-1', {bitrate: 400000});
    await expectError(page, 9014, 'pause', 'done-1');
  });
});

test('9006 download while downloading, 9015 resume of an entry never downloaded', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'busy-1');
      await prepare(page, 'prep-1');
      await page.evaluate(() => window.om.download('busy-1', {bitrate: 400000}));
      await expectError(page, 9006, 'download', 'busy-1', {bitrate: 400000});
      await expectError(page, 9015, 'resume', 'prep-1');
      await page.evaluate(() => window.om.removeAll());
    },
    {delayMs: 300},
  );
});

test('9002 for a malformed message posted to the worker, which keeps answering', async () => {
  await withPage(async (page) => {
    await page.evaluate(() => window.om.getAllDownloads()); // registers the worker
    const replies = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      const worker = navigator.serviceWorker.controller ?? reg.active;
      const ask = (msg) =>
        new Promise((resolve) => {
          const ch = new MessageChannel();
          ch.port1.onmessage = (e) => resolve(e.data);
          setTimeout(() => resolve('no answer'), 5000);
          worker.postMessage(msg, [ch.port2]);
        });
      const bogus = await ask({v: 1, id: 1, type: 'bogus'});
      const list = await ask({v: 1, id: 2, type: 'list'});
      const viaShim = await window.om.getAllDownloads();
      return {bogus, list, viaShim};
    });
    assert.equal(replies.bogus.ok, false, JSON.stringify(replies.bogus));
    assert.equal(replies.bogus.id, 1);
    assert.equal(replies.bogus.error.code, 9002);
    assert.equal(replies.bogus.error.category, 9);
    assert.equal(typeof replies.bogus.error.data?.message, 'string');
    assert.equal(replies.list.ok, true, JSON.stringify(replies.list));
    assert.equal(replies.list.id, 2);
    assert.deepEqual(replies.viaShim, []);
  });
});

// ---- several tabs and reloads --------------------------------------------------------------

test('a download started in one tab sends progress and statechange to another tab', async () => {
  await withPage(
    async (pageA, context) => {
      await pageA.evaluate(() => window.om.getAllDownloads()); // the worker is registered
      const pageB = await context.newPage();
      await pageB.goto(`${servers.app.url}/pages/api.html`);
      await pageB.evaluate(() => window.setup());
      await pageB.evaluate(() => window.om.getAllDownloads());
      await downloadToEnd(pageA, 'tabs-1');
      const seen = await pageB.evaluate(async () => {
        const done = await window.waitEvent('statechange', 'tabs-1', 'completed');
        const progress = window.events.filter((e) => e.type === 'progress' && e.detail.entryId === 'tabs-1').map((e) => e.detail);
        const states = window.events.filter((e) => e.type === 'statechange').map((e) => e.detail.state);
        return {done, progress, states};
      });
      assert.ok(seen.progress.length > 0, 'tab B got progress events');
      assert.ok(seen.states.includes('downloading'), JSON.stringify(seen.states));
      assert.equal(seen.progress.at(-1).segmentsDone, seen.progress.at(-1).segmentsTotal);
      const listA = await pageA.evaluate(() => window.om.getAllDownloads());
      const listB = await pageB.evaluate(() => window.om.getAllDownloads());
      assert.deepEqual(listB, listA);
      assert.equal(listA[0].state, 'completed');
    },
    {delayMs: 50},
  );
});

test('a download continues through a page reload and completes for the reloaded page', async () => {
  await withPage(
    async (page) => {
      await prepare(page, 'big-1');
      const summary = await page.evaluate(() => window.om.download('big-1', {bitrate: 1200000}));
      assert.equal(summary.state, 'downloading');
      await page.evaluate(() => window.waitEvent('progress', 'big-1', 1));
      await page.reload();
      await page.evaluate(() => window.setup());
      const [during] = await page.evaluate(() => window.om.getAllDownloads());
      assert.equal(during.state, 'downloading', 'still downloading after the reload');
      const last = await page.evaluate(async () => {
        await window.waitEvent('statechange', 'big-1', 'completed', 30000);
        return window.events.filter((e) => e.type === 'progress' && e.detail.entryId === 'big-1').at(-1)?.detail;
      });
      assert.ok(last, 'the reloaded page got progress events');
      assert.equal(last.segmentsDone, last.segmentsTotal);
      assert.equal(last.progress, 100);
      const [done] = await page.evaluate(() => window.om.getAllDownloads());
      assert.equal(done.state, 'completed');
    },
    {delayMs: 400},
  );
});
