// Loads the player of a protected-content page: ?player=kaltura the Kaltura Player (OVP build),
// otherwise shaka-player. A parser-blocking script, so the player is there for the next script.
window.PLAYER = new URLSearchParams(location.search).get('player') === 'kaltura' ? 'kaltura' : 'shaka';
document.write(
  window.PLAYER === 'kaltura'
    ? '<script src="/vendor/kaltura/kaltura-ovp-player.js"></script>'
    : '<script src="/vendor/shaka/shaka-player.compiled.js"></script>',
);
