// Streams as real packagers write them, stored and played offline in each engine that plays them
// online (what an engine cannot decode is a skipped test saying so): WebM SegmentBase indexed by
// Cues (VP9 + Opus) with a duration written with year, month and day parts.
//
// Content: tests/content/make-webm.sh (run by set-up; made here when missing).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {startWorld} from './world.mjs';
import {CONTENT_DIR, ROOT} from '../e2e/harness.mjs';
import {checkStored, startDownload} from '../e2e/engine-helpers.mjs';

execFileSync('bash', [path.join(ROOT, 'tests/content/make-webm.sh')], {stdio: 'ignore', env: {...process.env, CONTENT_DIR}});
const {proxy, features, withPage, playOffline, waitEnd} = await startWorld();
const T = {timeout: 180_000};

test('a WebM SegmentBase stream indexed by Cues, with a P0Y0M0DT… duration, is stored cluster by cluster and plays offline', {...T, skip: !features.webm && 'this engine\'s MSE plays neither VP9 nor Opus in WebM'}, async () => {
  await withPage(async (page) => {
    await startDownload(page, 'webm', `${proxy.url}/content/webm/manifest.mpd`, {});
    const end = await waitEnd(page, 'webm');
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const {entry, stored} = await checkStored(page, 'webm', CONTENT_DIR);
    const video = entry.plan.tracks.find((t) => t.segments.some((s) => /video\.webm$/.test(s.url)));
    assert.ok(video, 'the VP9 track is planned');
    assert.equal(video.segments.length, 4, 'one segment per 2 s cluster of the 8 s video');
    video.segments.forEach((s, i) => i && assert.equal(s.range[0], video.segments[i - 1].range[1] + 1, 'clusters follow one another'));
    assert.ok(stored.length >= 1 + 4 + 1 + 4, `${stored.length} segments stored`);
    await playOffline(page, 'webm', {seconds: 3});
  });
});
