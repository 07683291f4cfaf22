// The steps shared by the Kaltura Player end-to-end tests (OVP and TV builds): download an
// entry through the provider in the page, play it from the worker, and check that what the
// player fetched offline was answered by the worker.

import assert from 'node:assert/strict';

/**
 * In the page: `new KalturaPlayer.OfflineManager({provider})`, getMediaConfig(mediaInfo), download,
 * wait for completion. Returns the events seen, the config, the start summary and getAllDownloads().
 */
export function downloadThroughProvider(page, {provider, mediaInfo, options}) {
  return page.evaluate(
    async ({provider, mediaInfo, options}) => {
      const entryId = String(mediaInfo.entryId);
      const om = new KalturaPlayer.OfflineManager({provider});
      window.om = om;
      const seen = {progress: [], states: [], errors: []};
      om.addEventListener('progress', (e) => seen.progress.push(e.payload.detail));
      om.addEventListener('error', (e) => seen.errors.push(e.payload.detail ?? e.payload));
      const completed = new Promise((resolve, reject) => {
        om.addEventListener('statechange', (e) => {
          seen.states.push(e.payload.detail);
          if (e.payload.detail.entryId !== entryId) return;
          if (e.payload.detail.state === 'completed') resolve();
          if (e.payload.detail.state === 'failed') reject(new Error(`download failed: ${JSON.stringify(e.payload.detail)}`));
        });
      });
      const fail = (step) => (e) => {
        throw new Error(`${step}: ${JSON.stringify(e)}`);
      };
      const config = await om.getMediaConfig(mediaInfo).catch(fail('getMediaConfig'));
      seen.config = {
        id: config.sources.id,
        type: config.sources.type,
        duration: config.sources.duration,
        dash: config.sources.dash,
        session: config.session,
        metadata: config.sources.metadata,
      };
      seen.started = await om.download(entryId, options).catch(fail('download'));
      await completed;
      seen.all = await om.getAllDownloads();
      return seen;
    },
    {provider, mediaInfo, options},
  );
}

/** In the page: play the stored entry with KalturaPlayer.setup({provider}) until currentTime > seconds. */
export function playStoredEntry(page, {entryId, provider, seconds}) {
  return page.evaluate(
    async ({entryId, provider, seconds}) => {
      const config = await window.om.getDownloadedMediaConfig(entryId);
      const player = KalturaPlayer.setup({targetId: 'player', provider, playback: {autoplay: true, muted: true}});
      const errors = [];
      player.addEventListener(player.Event.ERROR, (e) => errors.push(JSON.stringify(e.payload ?? e)));
      player.setMedia(config);
      const start = Date.now();
      while (player.currentTime <= seconds && errors.length === 0 && Date.now() - start < 30000) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const result = {source: config.sources.dash[0], poster: config.sources.poster, currentTime: player.currentTime, errors};
      player.destroy();
      return result;
    },
    {entryId, provider, seconds},
  );
}

/** The download completed in the page: progress reached it, every segment is stored. */
export function assertCompleted(seen, entryId) {
  assert.equal(seen.errors.length, 0, JSON.stringify(seen.errors));
  assert.ok(seen.progress.length > 0, 'progress events reached the page');
  const last = seen.progress.at(-1);
  assert.equal(last.progress, 100);
  assert.equal(last.segmentsDone, last.segmentsTotal);
  const entry = seen.all.find((e) => e.id === entryId);
  assert.equal(entry.state, 'completed');
  assert.ok(entry.size > 100_000, `stored ${entry.size} bytes`);
}

/** Playback offline went past 3 s from a local source, every local request answered by the worker. */
export function assertPlayedFromWorker(played, log, appUrl) {
  assert.equal(played.source.isLocal, true);
  assert.equal(played.source.localSource, true);
  assert.ok(played.source.url.startsWith(`${appUrl}/__offline__/`), played.source.url);
  assert.deepEqual(played.errors, []);
  assert.ok(played.currentTime > 3, `currentTime reached ${played.currentTime}`);
  if (process.env.E2E_VERBOSE) console.log(JSON.stringify(log, null, 1));
  const offlineRequests = log.filter((r) => r.url?.includes('/__offline__/'));
  assert.ok(offlineRequests.length >= 3, 'the player fetched the manifest and segments locally');
  for (const r of offlineRequests) {
    assert.equal(r.fromServiceWorker, true, `${r.url} answered by the worker`);
    assert.ok(r.status === 200 || r.status === 206, `${r.url} → ${r.status}`);
  }
}
