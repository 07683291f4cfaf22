// Play while downloading: ms from `download()` to the Kaltura Player's `playing` for a title
// nothing of which is stored yet (the worker answers what the job has stored and fetches the
// rest), beside the same stream played online from the loopback media server, and the segment
// requests the media server saw twice over all runs (goal 0).
//
//   node tests/bench/play-while-downloading-bench.mjs     (or through tests/bench/scoreboard.mjs)
//
// pages/player.html on our origin, one Chromium with a profile on disk, the template stream at
// 400 kbit/s with ABR off (both play the same rendition). One untimed run of each, then RUNS of
// each, alternating; each download run waits for the download to complete and removes the entry.

import {pathToFileURL} from 'node:url';
import {median, openPage, row, startEnv, templateMpd} from './bench-env.mjs';

const RUNS = 7;
const ABR = {enabled: false};
const SEGMENT = /\.m4s$/;

export async function run() {
  const env = await startEnv({origins: 1});
  try {
    const pageUrl = `${env.origins[0].url}/bench/player.html`;
    const page = await openPage(env.context, pageUrl);
    // The OfflineManager registers the worker; every run then starts on a controlled page.
    await page.evaluate(() => window.bench.om().getAllDownloads());
    const mpdUrl = templateMpd(env.media);
    const online = {sources: {dash: [{url: mpdUrl, mimetype: 'application/dash+xml'}], hls: [], progressive: []}};
    let duplicates = 0;
    let runNo = 0;
    const once = async (mode) => {
      await page.goto(pageUrl);
      await page.evaluate(() => window.bench.waitControlled());
      if (mode === 'online') return page.evaluate(({config, abr}) => window.bench.playStart(config, abr), {config: online, abr: ABR});
      const before = env.media.requests.length;
      const ms = await page.evaluate(({id, url, abr}) => window.bench.downloadAndPlay(id, url, {bitrate: 400000}, abr), {
        id: `pwd-${runNo++}`,
        url: mpdUrl,
        abr: ABR,
      });
      const seen = new Map();
      for (const r of env.media.requests.slice(before).filter((r) => SEGMENT.test(r.url) && r.method === 'GET')) {
        const key = `${r.url} ${r.range ?? ''}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      duplicates += [...seen.values()].filter((n) => n > 1).length;
      return ms;
    };
    await once('download');
    await once('online');
    const times = {download: [], online: []};
    for (let i = 0; i < RUNS; i++) {
      for (const mode of i % 2 ? ['online', 'download'] : ['download', 'online']) times[mode].push(await once(mode));
    }
    for (const mode of ['download', 'online']) console.error(`play while downloading: ${mode} ${times[mode].map((t) => t.toFixed(0)).join(' ')} ms`);
    const start = row('download() → playing, nothing stored yet', 'ms', median(times.download), 'online from loopback', median(times.online), 'ratio ≤ 1.5');
    start.met = start.ratio <= 1.5;
    const dup = row('segments fetched twice while playing a download', 'count', duplicates, 'goal', 0, '0');
    dup.met = duplicates === 0;
    return [start, dup];
  } finally {
    await env.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 1));
}
