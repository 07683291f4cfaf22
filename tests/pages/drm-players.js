// Player helpers of the protected-content pages (drm.html, drm-offline.html): shaka-player or the
// Kaltura Player, whichever the page loaded, played until currentTime passes `seconds` or an error.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until currentTime() > seconds, an error was seen, or timeoutMs passed. */
async function waitPlayback(currentTime, errors, seconds, timeoutMs) {
  const start = Date.now();
  while (currentTime() <= seconds && errors.length === 0 && Date.now() - start < timeoutMs) await sleep(200);
}

/**
 * shaka-player: plays manifestUrl with `drm` (a shaka drm config, or null for none).
 * Resolves to {currentTime, errors: [{category, code, data}], videoError, keySystem}.
 */
window.playShaka = async ({manifestUrl, drm, seconds, timeoutMs}) => {
  shaka.polyfill.installAll();
  const video = document.getElementById('video');
  const player = new shaka.Player();
  await player.attach(video);
  const errors = [];
  const record = (e) => errors.push({category: e.category, code: e.code, data: JSON.stringify(e.data ?? []).slice(0, 300)});
  player.addEventListener('error', (e) => record(e.detail));
  const once = {maxAttempts: 1, baseDelay: 100, backoffFactor: 1, fuzzFactor: 0, timeout: 20000};
  player.configure({drm: {...(drm ?? {}), retryParameters: once}, manifest: {retryParameters: once}});
  await player.load(manifestUrl).catch(record);
  video.muted = true;
  video.play().catch(() => {}); // not awaited: it stays pending while the video waits for a key
  await waitPlayback(() => video.currentTime, errors, seconds, timeoutMs);
  const result = {currentTime: video.currentTime, errors, videoError: video.error?.message ?? null, keySystem: player.keySystem()};
  await player.destroy();
  return result;
};

/**
 * Kaltura Player: KalturaPlayer.setup({..., playback: {...playback}}) then setMedia(mediaConfig).
 * Resolves to {currentTime, errors: [{severity, category, code, data}], source}.
 */
window.playKaltura = async ({mediaConfig, playback, seconds, timeoutMs}) => {
  const player = KalturaPlayer.setup({targetId: 'player', provider: {partnerId: 1234}, playback: {autoplay: true, muted: true, ...playback}});
  const errors = [];
  player.addEventListener(player.Event.ERROR, (e) => {
    const p = e.payload ?? {};
    errors.push({severity: p.severity, category: p.category, code: p.code, data: JSON.stringify(p.data ?? null).slice(0, 300)});
  });
  player.setMedia(mediaConfig);
  await waitPlayback(() => player.currentTime ?? 0, errors, seconds, timeoutMs);
  const result = {currentTime: player.currentTime, errors, source: player.selectedSource ?? null};
  player.destroy();
  return result;
};
