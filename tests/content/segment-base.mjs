#!/usr/bin/env node
// Rewrites an ffmpeg single-file MPD (made with -single_file 1 -global_sidx 1, which ffmpeg writes
// as a SegmentList) into the SegmentBase form real services use: each Representation's
// SegmentList becomes <SegmentBase indexRange="sidx box"><Initialization range="before it"/>.
// ffmpeg cannot write this form itself.
//
//   node tests/content/segment-base.mjs DIR/manifest.mpd

import fs from 'node:fs';
import path from 'node:path';

/** Offset and size of the first top-level `sidx` box of an MP4 file. */
export function findSidx(file) {
  const buf = fs.readFileSync(file);
  let pos = 0;
  while (pos + 8 <= buf.length) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (size === 1) size = Number(buf.readBigUInt64BE(pos + 8));
    if (size === 0) size = buf.length - pos;
    if (type === 'sidx') return {offset: pos, size};
    if (size < 8) break;
    pos += size;
  }
  throw new Error(`no top-level sidx box in ${file}`);
}

function main(mpdPath) {
  const dir = path.dirname(mpdPath);
  let text = fs.readFileSync(mpdPath, 'utf8');
  text = text.replace(/(<BaseURL>([^<]+)<\/BaseURL>\s*)<SegmentList timescale="(\d+)"[^>]*>[\s\S]*?<\/SegmentList>/g, (_, baseTag, file, timescale) => {
    const {offset, size} = findSidx(path.join(dir, file));
    return (
      `${baseTag}<SegmentBase timescale="${timescale}" indexRange="${offset}-${offset + size - 1}">` + `<Initialization range="0-${offset - 1}"/></SegmentBase>`
    );
  });
  if (!text.includes('<SegmentBase')) throw new Error(`no SegmentList to rewrite in ${mpdPath}`);
  fs.writeFileSync(mpdPath, text);
}

if (process.argv[1] && import.meta.url === `file://${path.resolve(process.argv[1])}`) main(process.argv[2]);
