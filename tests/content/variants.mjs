// Variants of the ffmpeg-made streams (tests/content/make-content.sh, make-encrypted.sh) in the
// shapes real packagers write, for the real-world-streams suite and the differential test:
//   aes128/manifest.mpd        the template stream with DASH segment encryption (make-aes128.mjs)
//   template/lcevc.mpd         an lvc1 representation (dependencyId on the 360p base) added to the
//                              video set, highest bandwidth of all: a browser decodes none of it
//   template/xlink.mpd         its Period given by xlink (actuate onLoad) -> xlink-period.xml
//   template/two-periods.mpd   two Periods (0-6 s, 6-12 s) sharing each track's init segment
//   encrypted/kid-only.mpd     the encrypted stream with only cenc:default_KID (no ClearKey element)
//
//   import {writeVariants} from './variants.mjs'; writeVariants(contentDir);
// Quick (no encoding) and idempotent: written again each time from their sources.

import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The template stream's Period element, its segment numbers limited to [first, last] and placed at `start` s. */
function templatePeriod(mpd, id, first, last, start) {
  const period = mpd.slice(mpd.indexOf('<Period'), mpd.indexOf('</Period>') + '</Period>'.length);
  return period
    .replace(/<Period[^>]*>/, `<Period id="${id}" start="PT${start}S" duration="PT${(last - first + 1) * 2}S">`)
    .replaceAll('startNumber="1"', `startNumber="${first}" presentationTimeOffset="${(first - 1) * 2_000_000}"`);
}

/** An MPD around `periods` (XML text), as ffmpeg's template manifest declares it. */
const mpdWith = (periods, duration = 12) => `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" profiles="urn:mpeg:dash:profile:isoff-live:2011"
  type="static" mediaPresentationDuration="PT${duration}S" minBufferTime="PT4S">
${periods}
</MPD>
`;

/** Writes every variant whose source stream is in `contentDir`. */
export function writeVariants(contentDir) {
  const template = path.join(contentDir, 'template');
  const mpd = fs.readFileSync(path.join(template, 'manifest.mpd'), 'utf8');
  execFileSync('node', [path.join(HERE, 'make-aes128.mjs'), template, path.join(contentDir, 'aes128')], {stdio: 'ignore'});
  fs.writeFileSync(
    path.join(template, 'lcevc.mpd'),
    mpd.replace(
      '</AdaptationSet>',
      `<Representation id="lvc" mimeType="video/mp4" codecs="lvc1" dependencyId="0" bandwidth="2500000" width="1280" height="720">
      <SegmentTemplate timescale="1000000" duration="2000000" initialization="init-stream1.m4s" media="chunk-stream1-$Number%05d$.m4s" startNumber="1"/>
    </Representation></AdaptationSet>`,
    ),
  );
  fs.writeFileSync(path.join(template, 'xlink-period.xml'), templatePeriod(mpd, '0', 1, 6, 0));
  fs.writeFileSync(path.join(template, 'xlink.mpd'), mpdWith('<Period xlink:href="xlink-period.xml" xlink:actuate="onLoad"/>'));
  fs.writeFileSync(path.join(template, 'two-periods.mpd'), mpdWith(`${templatePeriod(mpd, 'a', 1, 3, 0)}\n${templatePeriod(mpd, 'b', 4, 6, 6)}`));
  const encrypted = path.join(contentDir, 'encrypted/manifest.mpd');
  if (fs.existsSync(encrypted)) {
    const kidOnly = fs
      .readFileSync(encrypted, 'utf8')
      .replace(/\s*<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"[^>]*\/>/g, '');
    if (/e2719d58/.test(kidOnly)) throw new Error('variants: the ClearKey ContentProtection of encrypted/manifest.mpd was not removed');
    fs.writeFileSync(path.join(contentDir, 'encrypted/kid-only.mpd'), kidOnly);
  }
}
