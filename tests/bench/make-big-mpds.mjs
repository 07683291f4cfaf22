// Writes the two large static MPDs of the planner benchmark (mpd-bench.mjs) into
// target/bench/mpd/ (or the directory given as the first argument). Output is deterministic.
//
// timeline-3h.mpd  3 hours (10,800 s), one Period, 5 representations, SegmentTemplate +
//                  SegmentTimeline with $Time$, one SegmentTemplate per Representation (as
//                  packagers write it when the representations' timelines are listed apiece):
//                  - video: one AdaptationSet, 4 representations (400k/1M/2.5M/5M), timescale
//                    90000, segments alternating 1.96 s / 2.04 s, so `r` cannot collapse them:
//                    5,400 S elements (= 5,400 segments) per representation;
//                  - audio: AAC 48 kHz, timescale 48000, segments cut at the first AAC frame
//                    (1024 samples) at or after every 2 s boundary, i.e. 94,94,94,93 frames
//                    repeating: 2,700 S elements (with r) for 5,400 segments.
//                  Total: 24,300 S elements, 27,000 media segments.
// duration-50k.mpd 100,000 s (27 h 46 m 40 s), one Period, SegmentTemplate@duration with
//                  $Number$ (2 s segments) at AdaptationSet level, 2 representations (one
//                  video, one audio): 50,000 segments per representation, 100,000 in total.

import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
export const BENCH_MPD_DIR = path.join(REPO, 'target/bench/mpd');

/** Expected media segment counts, for a sanity check by the caller. */
export const EXPECTED_SEGMENTS = {'timeline-3h.mpd': 27000, 'duration-50k.mpd': 100000};

const VIDEO = [
  {id: 'v400', bandwidth: 400000, width: 640, height: 360},
  {id: 'v1000', bandwidth: 1000000, width: 960, height: 540},
  {id: 'v2500', bandwidth: 2500000, width: 1280, height: 720},
  {id: 'v5000', bandwidth: 5000000, width: 1920, height: 1080},
];

function videoTimeline() {
  // 2,700 pairs of 1.96 s + 2.04 s at 90 kHz = 10,800 s.
  const s = ['<S t="0" d="176400"/>'];
  for (let i = 1; i < 5400; i++) s.push(`<S d="${i % 2 ? 183600 : 176400}"/>`);
  return s;
}

function audioTimeline() {
  // Segment k ends at ceil(k * 2 s / 1024 samples) AAC frames: 94,94,94,93 frames repeating.
  const frames = [];
  let prev = 0;
  for (let k = 1; k <= 5400; k++) {
    const end = Math.ceil((k * 2 * 48000) / 1024);
    frames.push(end - prev);
    prev = end;
  }
  const s = [];
  let t = 0;
  for (let i = 0; i < frames.length; ) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[i]) j++;
    const d = frames[i] * 1024;
    const attrs = [];
    if (i === 0) attrs.push(`t="${t}"`);
    attrs.push(`d="${d}"`);
    if (j > i) attrs.push(`r="${j - i}"`);
    s.push(`<S ${attrs.join(' ')}/>`);
    t += d * (j - i + 1);
    i = j + 1;
  }
  if (t !== 10800 * 48000) throw new Error(`audio timeline is ${t / 48000} s`);
  return s;
}

function timelineMpd() {
  const vt = videoTimeline();
  const at = audioTimeline();
  const ind = (n) => ' '.repeat(n);
  const timeline = (lines, n) => lines.map((l) => ind(n) + l).join('\n');
  const out = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push('<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" profiles="urn:mpeg:dash:profile:isoff-live:2011"');
  out.push('     minBufferTime="PT2S" mediaPresentationDuration="PT3H0M0S">');
  out.push('  <Period id="p0" start="PT0S">');
  out.push('    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">');
  for (const v of VIDEO) {
    out.push(`      <Representation id="${v.id}" bandwidth="${v.bandwidth}" codecs="avc1.64001f" width="${v.width}" height="${v.height}" frameRate="25">`);
    out.push('        <SegmentTemplate timescale="90000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time$.m4s">');
    out.push('          <SegmentTimeline>');
    out.push(timeline(vt, 12));
    out.push('          </SegmentTimeline>');
    out.push('        </SegmentTemplate>');
    out.push('      </Representation>');
  }
  out.push('    </AdaptationSet>');
  out.push('    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en" segmentAlignment="true" startWithSAP="1">');
  out.push('      <Representation id="a128" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000">');
  out.push('        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>');
  out.push('        <SegmentTemplate timescale="48000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time$.m4s">');
  out.push('          <SegmentTimeline>');
  out.push(timeline(at, 12));
  out.push('          </SegmentTimeline>');
  out.push('        </SegmentTemplate>');
  out.push('      </Representation>');
  out.push('    </AdaptationSet>');
  out.push('  </Period>');
  out.push('</MPD>');
  return `${out.join('\n')}\n`;
}

function durationMpd() {
  return `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" profiles="urn:mpeg:dash:profile:isoff-live:2011"
     minBufferTime="PT2S" mediaPresentationDuration="PT27H46M40S">
  <Period id="p0" start="PT0S">
    <AdaptationSet id="1" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number%05d$.m4s"/>
      <Representation id="v2500" bandwidth="2500000" codecs="avc1.64001f" width="1280" height="720" frameRate="25"/>
    </AdaptationSet>
    <AdaptationSet id="2" contentType="audio" mimeType="audio/mp4" lang="en" segmentAlignment="true" startWithSAP="1">
      <SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number%05d$.m4s"/>
      <Representation id="a128" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
`;
}

/** Writes both files into `dir` and returns their paths. */
export function makeBigMpds(dir = BENCH_MPD_DIR) {
  fs.mkdirSync(dir, {recursive: true});
  const files = {'timeline-3h.mpd': timelineMpd(), 'duration-50k.mpd': durationMpd()};
  const paths = [];
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    paths.push(p);
  }
  return paths;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const p of makeBigMpds(process.argv[2] ? path.resolve(process.argv[2]) : BENCH_MPD_DIR)) {
    const text = fs.readFileSync(p, 'utf8');
    const s = (text.match(/<S /g) || []).length;
    console.log(`${path.relative(process.cwd(), p)}: ${text.length} bytes, ${s} S elements`);
  }
}
