// Plays a URL in shaka-player or dash.js (both loaded by the page before this script) and
// reports how far playback got: a plain script, so that every engine runs it unchanged.

/**
 * Plays `url` with `which` ('shaka' | 'dashjs') until currentTime passes `seconds` (or 30 s pass);
 * with `clearKeyLicenseUrl`, ClearKey licences are asked for there.
 */
window.playFor = async (which, url, seconds, {clearKeyLicenseUrl} = {}) => {
  const video = document.getElementById('video');
  const errors = [];
  let destroy;
  if (which === 'shaka') {
    shaka.polyfill.installAll();
    const player = new shaka.Player();
    await player.attach(video);
    player.addEventListener('error', (e) => errors.push(String(e.detail?.code ?? e)));
    if (clearKeyLicenseUrl) player.configure({drm: {servers: {'org.w3.clearkey': clearKeyLicenseUrl}}});
    await player.load(url).catch((e) => errors.push(`load ${e.code ?? e}`));
    destroy = () => player.destroy();
  } else {
    const player = dashjs.MediaPlayer().create();
    player.on(dashjs.MediaPlayer.events.ERROR, (e) => errors.push(JSON.stringify(e.error ?? e)));
    if (clearKeyLicenseUrl) player.setProtectionData({'org.w3.clearkey': {serverURL: clearKeyLicenseUrl}});
    player.initialize(video, url, true);
    destroy = () => player.reset();
  }
  video.muted = true;
  await video.play().catch(() => {});
  const start = Date.now();
  while (video.currentTime <= seconds && errors.length === 0 && Date.now() - start < 30000) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const result = {currentTime: video.currentTime, errors, videoError: video.error?.message ?? null};
  await destroy();
  return result;
};
