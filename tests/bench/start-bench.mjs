// Offline start benchmark: Kaltura Player `setMedia(config)` → `playing`, for a
// stored entry played offline from our worker, beside the same stream played online from the
// loopback media server.
//
//   node tests/bench/start-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// pages/player.html (Kaltura OVP Player + shim) on our origin, one Chromium with a profile on
// disk. The template stream is stored at 400 kbit/s through window.OfflineManager (plain config);
// offline the player gets getDownloadedMediaConfig() with the browser offline
// (context.setOffline), online the same config with the source pointing at the original MPD. ABR
// is off in both (`abr: {enabled: false}`), so both play the same 360p rendition (with ABR on,
// online starts on the 720p one and switches). Each run reloads the
// page (online), then times setMedia → playing in the page; one untimed run of each, then
// RUNS of each, alternating. The page stays controlled by our worker in both cases (that is how
// an app using it plays online). Goal: offline median ≤ online median.

import {pathToFileURL} from 'node:url';
import {median, openPage, row, startEnv, storeEntry, templateMpd} from './bench-env.mjs';

const RUNS = 7;
/** ABR off: the player starts, and stays, on the lowest rendition, online as offline. */
const ABR = {enabled: false};

export async function run() {
  const env = await startEnv({origins: 1});
  try {
    const origin = env.origins[0];
    const pageUrl = `${origin.url}/bench/player.html`;
    const page = await openPage(env.context, pageUrl);
    const mpdUrl = templateMpd(env.media);
    await storeEntry(page, {entryId: 'start-360', mpdUrl, options: {bitrate: 400000}});
    const offline = await page.evaluate(() => window.bench.om().getDownloadedMediaConfig('start-360'));
    if (!offline.sources.dash[0].isLocal) throw new Error('the downloaded config has no local source');
    const online = structuredClone(offline);
    online.sources.dash = [{...offline.sources.dash[0], url: mpdUrl, isLocal: false, localSource: false}];

    const once = async (mode) => {
      await page.goto(pageUrl);
      await page.evaluate(() => window.bench.waitControlled());
      if (mode === 'offline') await env.context.setOffline(true);
      const before = env.media.requests.length;
      try {
        const ms = await page.evaluate(({config, abr}) => window.bench.playStart(config, abr), {config: mode === 'offline' ? offline : online, abr: ABR});
        const fetched = env.media.requests.length - before;
        if ((mode === 'online') !== fetched > 0) throw new Error(`${mode} run: ${fetched} media server requests`);
        return ms;
      } finally {
        await env.context.setOffline(false);
      }
    };
    await once('offline');
    await once('online');
    const times = {offline: [], online: []};
    for (let i = 0; i < RUNS; i++) {
      for (const mode of i % 2 ? ['online', 'offline'] : ['offline', 'online']) times[mode].push(await once(mode));
    }
    for (const mode of ['offline', 'online']) {
      console.error(`start: ${mode} ${times[mode].map((t) => t.toFixed(0)).join(' ')} ms`);
    }
    const r = row('player start offline (setMedia→playing)', 'ms', median(times.offline), 'online from loopback', median(times.online), 'ratio ≤ 1.0');
    r.met = r.ratio <= 1.0;
    return [r];
  } finally {
    await env.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 1));
}
