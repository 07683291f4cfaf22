#!/usr/bin/env node
// Serves the app origin and the media/Kaltura-emulator origin for manual use and the demo.
//
//   node scripts/serve.mjs [--app-port 8080] [--media-port 8081] [--content-dir DIR]
//
// Stops cleanly on SIGINT / SIGTERM.

import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {startAppServer} from '../tests/server/app-server.mjs';
import {startMediaServer} from '../tests/server/media-server.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function options() {
  const {values} = parseArgs({
    options: {
      'app-port': {type: 'string', default: '8080'},
      'media-port': {type: 'string', default: '8081'},
      'content-dir': {type: 'string', default: path.join(REPO, 'tests', '.content')},
      // The demo's CDN is slowed a little so a person can watch a download progress.
      'segment-delay-ms': {type: 'string', default: '150'},
      host: {type: 'string', default: '127.0.0.1'},
    },
  });
  return {
    appPort: Number(values['app-port']),
    mediaPort: Number(values['media-port']),
    contentDir: path.resolve(values['content-dir']),
    segmentDelayMs: Number(values['segment-delay-ms']),
    host: values.host,
  };
}

async function main() {
  const opts = options();
  const startMedia = () =>
    startMediaServer({
      port: opts.mediaPort,
      contentDir: opts.contentDir,
      host: opts.host,
      segmentDelayMs: opts.segmentDelayMs,
    });
  let media = await startMedia();
  // The demo page takes the network away for real by stopping the media server, and brings it back.
  const actions = {
    '/__demo/media/stop': async () => {
      await media?.stop();
      media = null;
      return {media: 'stopped'};
    },
    '/__demo/media/start': async () => {
      media ??= await startMedia();
      return {media: 'running', url: media.url};
    },
    '/__demo/media/status': async () => ({media: media ? 'running' : 'stopped'}),
  };
  const app = await startAppServer({port: opts.appPort, root: REPO, host: opts.host, actions});
  console.log(`Demo:  ${app.url}/demo/?media=${encodeURIComponent(media.url)}`);
  console.log(`App:   ${app.url}/`);
  console.log(`Media: ${media.url}/`);
  console.log(`Kaltura API: ${media.url}/api_v3`);

  const shutdown = async (signal) => {
    console.log(`${signal}: stopping`);
    await Promise.all([app.stop(), media?.stop()]);
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
