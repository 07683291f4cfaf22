// A persistent profile, where the engine's driver gives only private sessions (WebKit): the
// browser is started without a driver on a profile folder, on a page that drives itself and
// reports to the app server. The browser is killed mid-download (its worker with it, as in a
// crash) and started again on the same profile: the download resumes and completes, every
// segment is stored once and right (as Blobs: a normal profile keeps them), and the title plays
// offline in shaka-player and dash.js with the media server stopped.

import {test, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {ENGINE} from './engines.mjs';
import {SEGMENTS} from './world.mjs';
import {CONTENT_DIR, ROOT} from '../e2e/harness.mjs';
import {checkStored} from '../e2e/engine-helpers.mjs';
import {startAppServer} from '../server/app-server.mjs';
import {startMediaServer} from '../server/media-server.mjs';
import {startFaultProxy} from '../server/fault-proxy.mjs';

const {launchPersistent} = await import(`./${ENGINE}.mjs`);
const SKIP =
  !launchPersistent
  && `${ENGINE}'s driver keeps storage itself (its suite runs there); a driverless persistent profile is needed only where every driver session is private (WebKit)`;

test('a download interrupted by killing the browser resumes on the same profile, completes and plays offline', {timeout: 300_000, skip: SKIP}, async () => {
  const reports = [];
  let onStored = async () => ({});
  const app = await startAppServer({
    root: ROOT,
    actions: {
      '/report': async (body) => {
        reports.push(body);
        return body?.phase === 'stored' ? onStored(body) : {};
      },
    },
  });
  let media = await startMediaServer({contentDir: CONTENT_DIR});
  const proxy = await startFaultProxy({target: () => media.url});
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'om-profile-'));
  const browsers = [];
  after(async () => {
    for (const b of browsers) await b.stop();
    await proxy.stop();
    await media.stop();
    await app.stop();
    fs.rmSync(profileDir, {recursive: true, force: true});
  });
  const report = async (phase, ms = 120_000) => {
    for (const start = Date.now(); Date.now() - start < ms; await new Promise((r) => setTimeout(r, 100))) {
      const error = reports.find((r) => r?.phase === 'error');
      if (error) assert.fail(`the page failed: ${error.message}`);
      const hit = reports.find((r) => r?.phase === phase);
      if (hit) return hit;
    }
    assert.fail(`no '${phase}' report in ${ms} ms`);
  };
  const page = (query) => `${app.url}/pages/self-drive.html?entry=persist&${new URLSearchParams(query)}`;

  proxy.addRule({match: SEGMENTS, action: 'delay', delayMs: 1500});
  browsers.push(await launchPersistent({profileDir, url: page({phase: 'start', manifest: `${proxy.url}/content/timeline/manifest.mpd`})}));
  const {progress} = await report('downloading');
  assert.ok(progress.segmentsDone < progress.segmentsTotal, `killed mid-download: ${JSON.stringify(progress)}`);
  await browsers.pop().stop();

  proxy.clearRules();
  onStored = async () => {
    await media.stop();
    return {};
  };
  browsers.push(await launchPersistent({profileDir, url: page({phase: 'finish'})}));
  const stored = await report('stored');
  assert.equal(stored.summary.state, 'completed', JSON.stringify(stored.summary));
  const {stored: items} = await checkStored({evaluate: async () => stored.store}, 'persist', CONTENT_DIR);
  assert.deepEqual([...new Set(items.flatMap((i) => i.forms))], ['blob'], 'a persistent profile keeps Blobs');
  const {played} = await report('played');
  for (const p of played) {
    assert.deepEqual(p.errors, [], `${p.player}: no error`);
    assert.ok(p.currentTime > 3, `${p.player}: currentTime reached ${p.currentTime}`);
  }
  media = await startMediaServer({contentDir: CONTENT_DIR, port: media.port});
});
