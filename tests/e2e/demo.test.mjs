// The demo app as a person uses it: screenshots mid-download and during offline playback, each
// checked for what it shows (a partly filled progress bar; a moving, non-blank video picture).
// Screenshots: target/screenshots/demo-*.png.

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {ROOT, CONTENT_DIR, launch} from './harness.mjs';
import {startAppServer} from '../server/app-server.mjs';
import {startMediaServer} from '../server/media-server.mjs';

const SHOTS = path.join(ROOT, 'target/screenshots');
let browser;
let app;
let media;

before(async () => {
  fs.mkdirSync(SHOTS, {recursive: true});
  const startMedia = (port = 0) => startMediaServer({contentDir: CONTENT_DIR, port, segmentDelayMs: 400});
  media = await startMedia();
  const port = media.port;
  app = await startAppServer({
    root: ROOT,
    actions: {
      '/__demo/media/stop': async () => {
        await media?.stop();
        media = null;
        return {media: 'stopped'};
      },
      '/__demo/media/start': async () => {
        media ??= await startMedia(port);
        return {media: 'running'};
      },
      '/__demo/media/status': async () => ({media: media ? 'running' : 'stopped'}),
    },
  });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await app?.stop();
  await media?.stop();
});

test('the demo shows a download in progress, then plays it offline after the media server is stopped', async () => {
  const context = await browser.newContext({viewport: {width: 1200, height: 900}});
  const page = await context.newPage();
  try {
    await page.goto(`${app.url}/demo/?media=${encodeURIComponent(media.url)}`);
    await page.waitForFunction(() => document.querySelector('#media-state')?.textContent === 'running');
    assert.ok(await page.isVisible('tr[data-entry="0_feature"]'), 'the feature sample is offered');
    await page.waitForFunction(() => /used of|not reported/.test(document.querySelector('#quota').textContent));
    await page.selectOption('#bitrate', '1200000');
    const row = 'tr[data-entry="0_template"]';
    await page.click(`${row} .download`);

    await page.waitForFunction(
      (r) => {
        const bar = document.querySelector(`${r} progress`);
        return bar && bar.value > 5 && bar.value < 95;
      },
      row,
      {timeout: 30000},
    );
    await page.screenshot({path: path.join(SHOTS, 'demo-mid-download.png')});
    const mid = await page.evaluate(
      (r) => ({
        state: document.querySelector(`${r} .state`).textContent,
        progress: document.querySelector(`${r} progress`).value,
        size: document.querySelector(`${r} .size`).textContent,
        pauseEnabled: !document.querySelector(`${r} .pause`).disabled,
        playEnabled: !document.querySelector(`${r} .play`).disabled,
      }),
      row,
    );
    assert.equal(mid.state, 'downloading');
    assert.ok(mid.progress > 5 && mid.progress < 95, `progress ${mid.progress}`);
    assert.match(mid.size, /KB|MB/);
    assert.equal(mid.pauseEnabled, true);
    assert.equal(mid.playEnabled, true, 'Play is enabled while the title downloads');

    await page.waitForSelector(`${row} .state-completed`, {timeout: 60000});
    await page.click('#media-toggle');
    await page.waitForFunction(() => document.querySelector('#media-state').textContent === 'stopped');
    await context.setOffline(true);
    await page.click(`${row} .play`);
    await page.waitForFunction(
      () => {
        const v = document.querySelector('#player video');
        return v && v.currentTime > 3;
      },
      null,
      {timeout: 30000},
    );
    await page.screenshot({path: path.join(SHOTS, 'demo-offline-playback.png')});
    const shown = await page.evaluate(() => {
      const v = document.querySelector('#player video');
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 36;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(v, 0, 0, 64, 36);
      const px = ctx.getImageData(0, 0, 64, 36).data;
      const colours = new Set();
      for (let i = 0; i < px.length; i += 4) colours.add(`${px[i] >> 4},${px[i + 1] >> 4},${px[i + 2] >> 4}`);
      return {colours: colours.size, text: document.querySelector('#player-state').textContent, error: document.querySelector('#error').textContent};
    });
    assert.ok(shown.colours > 8, `the video picture has ${shown.colours} colours (blank if 1)`);
    assert.match(shown.text, /Playing 0_template \(stored\) from .*\/__offline__\/0_template\/manifest\.mpd/);
    assert.equal(shown.error, '');
  } finally {
    await context.close();
  }
});
