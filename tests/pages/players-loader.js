// Loads what the pages that play with shaka-player and dash.js (core.html, players.html,
// self-drive.html) need before their own scripts: both players, then the page shim as a plain
// script. Written from a parser-blocking script, so they run in this order and before the page's
// next script, as script tags in the page would.
for (const src of ['/vendor/shaka/shaka-player.compiled.js', '/vendor/dashjs/modern/umd/dash.all.min.js', '/kaltura-offline-manager.js']) {
  document.write(`<script src="${src}"></script>`);
}
