// Plays a URL in shaka-player or dash.js (both loaded by the page before this script) and
// reports how far playback got: a plain script, so that every engine runs it unchanged.

/**
 * Plays `url` with `which` ('shaka' | 'dashjs') until currentTime passes `seconds` (or `limitMs`,
 * 30 s by default, pass); with `clearKeyLicenseUrl`, ClearKey licences are asked for there; with
 * `seekTo`, playback seeks there once it has started; with `keepPlaying`, errors the player reports
 * do not end the wait, only a stall does (currentTime unchanged for 4 s): how far it got then.
 */
window.playFor = async (which, url, seconds, {clearKeyLicenseUrl, seekTo, limitMs = 30000, keepPlaying = false} = {}) => {
  // A media pipeline that breaks (seen in WebKitGTK) can leave load(), play() or destroy()
  // pending for ever: each step is bounded, and a step that times out counts as an error.
  const within = (promise, ms, what) =>
    Promise.race([promise, new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms))]);
  const video = document.getElementById('video');
  const errors = [];
  let destroy;
  if (which === 'shaka') {
    shaka.polyfill.installAll();
    const player = new shaka.Player();
    await player.attach(video);
    player.addEventListener('error', (e) => errors.push(String(e.detail?.code ?? e)));
    if (clearKeyLicenseUrl) player.configure({drm: {servers: {'org.w3.clearkey': clearKeyLicenseUrl}}});
    await within(player.load(url), 30000, 'load').catch((e) => errors.push(`load ${e.code ?? e}`));
    destroy = () => player.destroy();
  } else {
    const player = dashjs.MediaPlayer().create();
    player.on(dashjs.MediaPlayer.events.ERROR, (e) => errors.push(JSON.stringify(e.error ?? e)));
    if (clearKeyLicenseUrl) player.setProtectionData({'org.w3.clearkey': {serverURL: clearKeyLicenseUrl}});
    player.initialize(video, url, true);
    destroy = () => player.reset();
  }
  video.muted = true;
  await within(video.play(), 10000, 'play').catch(() => {});
  if (seekTo !== undefined) video.currentTime = seekTo;
  const start = Date.now();
  let last = {time: -1, at: Date.now()};
  const stalled = () => {
    if (video.currentTime !== last.time) last = {time: video.currentTime, at: Date.now()};
    return video.currentTime > 0 && Date.now() - last.at > 4000;
  };
  while (video.currentTime <= seconds && (keepPlaying || errors.length === 0) && !stalled() && Date.now() - start < limitMs) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const result = {currentTime: video.currentTime, errors, videoError: video.error?.message ?? null};
  await within(Promise.resolve(destroy()), 10000, 'destroy').catch((e) => result.errors.push(String(e)));
  return result;
};
