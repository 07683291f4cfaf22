// CENC ('cenc', AES-128-CTR) encryption of a clear fragmented-MP4 DASH stream, in place:
//   node tests/content/cenc-encrypt.mjs DIR KID_HEX KEY_HEX
//
// Why not ffmpeg's `-encryption_scheme cenc-aes-ctr`: ffmpeg 5.1 encrypts the samples of
// fragmented MP4 (random IVs) but writes the IVs and subsample map (senc/saiz/saio) only into
// the init segment's stbl, never into the fragments: undecryptable. So ffmpeg makes the clear
// stream and this script encrypts it the way packagers do:
//   init: avc1 -> encv, mp4a -> enca, each with sinf (frma, schm 'cenc' 1.0, schi/tenc:
//     protected, 8-byte IVs, default KID); a W3C common-system pssh v1 (1077efec-...) with the
//     KID in moov, so the browser fires `encrypted` with 'cenc' init data;
//   media: video per NAL unit (length + NAL header clear, the rest of VCL NAL units encrypted,
//     other NAL units clear), audio whole samples; senc (8-byte IVs, subsamples for video), saiz
//     and saio appended to each traf; trun data offsets and the sidx size moved by the moof
//     growth. IVs: [track_ID u16][baseMediaDecodeTime low 32 bits][sample index u16].
// The MPD gets ContentProtection (mp4protection + cenc:default_KID, and ClearKey) in every
// AdaptationSet. Every segment is then decrypted again from its own boxes and compared with
// the clear original (a mismatch fails the script).

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'dinf', 'edts', 'moof', 'traf', 'sinf', 'schi']);
const PREFIX = {stsd: 8, avc1: 78, encv: 78, mp4a: 28, enca: 28}; // bytes before child boxes
const COMMON_SYSTEM_ID = '1077efecc0b24d02ace33c1e52e2fb4b';
const CLEARKEY_UUID = 'e2719d58-a985-b3c9-781a-b030af78d30e';

/** Parses boxes into {type, start, size, prefix?, children? | payload} (payloads are views). */
export function parseBoxes(buf) {
  const boxes = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 8 > buf.length) throw new Error(`truncated box header at ${off}`);
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (size === 0) size = buf.length - off;
    if (size === 1) throw new Error(`64-bit box size (${type}) is not supported`);
    if (size < 8 || off + size > buf.length) throw new Error(`bad box ${type} at ${off}`);
    const body = buf.subarray(off + 8, off + size);
    const box = {type, start: off, size};
    if (CONTAINERS.has(type) || PREFIX[type] !== undefined) {
      box.prefix = body.subarray(0, PREFIX[type] ?? 0);
      box.children = parseBoxes(body.subarray(PREFIX[type] ?? 0));
    } else box.payload = body;
    boxes.push(box);
    off += size;
  }
  return boxes;
}

const sizeOf = (b) => 8 + (b.children ? b.prefix.length + b.children.reduce((s, c) => s + sizeOf(c), 0) : b.payload.length);

/** Serialises boxes; sets each box's `offset` (relative to the first box). */
export function serialize(boxes, chunks = [], base = {pos: 0}) {
  for (const b of boxes) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(sizeOf(b));
    head.write(b.type, 4, 'latin1');
    b.offset = base.pos;
    const body = b.children ? b.prefix : b.payload;
    chunks.push(head, body);
    base.pos += 8 + body.length;
    if (b.children) serialize(b.children, chunks, base);
  }
  return Buffer.concat(chunks);
}

export const find = (boxes, type) => boxes.find((b) => b.type === type);
const findPath = (box, types) => types.reduce((b, t) => b && find(b.children, t), box);
const leaf = (type, ...parts) => ({type, payload: Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))))});
const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const fullBox = (version, flags) => u32(((version << 24) | flags) >>> 0);

/** Init segment: sample entries become encv/enca with sinf; pssh added. Returns track info. */
function encryptInit(buf, kid) {
  const top = parseBoxes(buf);
  const moov = find(top, 'moov');
  const tracks = new Map();
  for (const trak of moov.children.filter((b) => b.type === 'trak')) {
    const tkhd = find(trak.children, 'tkhd').payload;
    const trackId = tkhd.readUInt32BE(tkhd[0] === 1 ? 20 : 12);
    const stsd = findPath(trak, ['mdia', 'minf', 'stbl', 'stsd']);
    for (const entry of stsd.children) {
      const format = entry.type;
      if (format !== 'avc1' && format !== 'mp4a') throw new Error(`cannot encrypt sample entry ${format}`);
      entry.type = format === 'avc1' ? 'encv' : 'enca';
      const tenc = leaf('tenc', fullBox(0, 0), [0, 0, 1, 8], kid);
      entry.children.push({
        type: 'sinf',
        prefix: Buffer.alloc(0),
        children: [leaf('frma', format), leaf('schm', fullBox(0, 0), 'cenc', u32(0x10000)), {type: 'schi', prefix: Buffer.alloc(0), children: [tenc]}],
      });
      const avcC = format === 'avc1' ? find(entry.children, 'avcC').payload : null;
      tracks.set(trackId, {format, nalLength: avcC ? (avcC[4] & 3) + 1 : 0});
    }
  }
  moov.children.push(leaf('pssh', fullBox(1, 0), Buffer.from(COMMON_SYSTEM_ID, 'hex'), u32(1), kid, u32(0)));
  return {init: serialize(top), tracks};
}

/** Encrypts one sample in place; returns its subsamples [[clear, encrypted], ...] (null: whole). */
function encryptSample(data, iv, key, nalLength) {
  const ranges = [];
  let subsamples = null;
  if (!nalLength) {
    ranges.push([0, data.length]);
  } else {
    subsamples = [];
    let clear = 0;
    const pushClear = (n) => {
      clear += n;
      while (clear > 0xffff) {
        subsamples.push([0xffff, 0]);
        clear -= 0xffff;
      }
    };
    for (let p = 0; p < data.length; ) {
      const size = data.readUIntBE(p, nalLength);
      const end = p + nalLength + size;
      if (size < 1 || end > data.length) throw new Error('bad NAL unit length');
      const nalType = data[p + nalLength] & 0x1f;
      if (nalType >= 1 && nalType <= 5 && size > 1) {
        pushClear(nalLength + 1);
        subsamples.push([clear, size - 1]);
        clear = 0;
        ranges.push([p + nalLength + 1, end]);
      } else {
        pushClear(nalLength + size);
      }
      p = end;
    }
    if (clear > 0) subsamples.push([clear, 0]);
  }
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.alloc(8)]));
  for (const [s, e] of ranges) cipher.update(data.subarray(s, e)).copy(data, s);
  return subsamples;
}

/** The samples a traf describes: [{offset (from moof start), size}] per trun, plus trun views. */
export function trafSamples(traf) {
  const tfhd = find(traf.children, 'tfhd').payload;
  const flags = tfhd.readUInt32BE(0) & 0xffffff;
  if (flags & 0x1) throw new Error('tfhd base-data-offset is not supported');
  const p = 8 + (flags & 0x2 ? 4 : 0) + (flags & 0x8 ? 4 : 0);
  const defaultSize = flags & 0x10 ? tfhd.readUInt32BE(p) : null;
  const samples = [];
  for (const trun of traf.children.filter((b) => b.type === 'trun')) {
    const t = trun.payload;
    const tf = t.readUInt32BE(0) & 0xffffff;
    if (!(tf & 0x1)) throw new Error('trun without data offset is not supported');
    let offset = t.readInt32BE(8);
    let q = 12 + (tf & 0x4 ? 4 : 0);
    for (let i = 0, n = t.readUInt32BE(4); i < n; i += 1) {
      q += tf & 0x100 ? 4 : 0;
      const size = tf & 0x200 ? t.readUInt32BE(q) : defaultSize;
      q += (tf & 0x200 ? 4 : 0) + (tf & 0x400 ? 4 : 0) + (tf & 0x800 ? 4 : 0);
      if (size === null) throw new Error('no sample size');
      samples.push({offset, size});
      offset += size;
    }
  }
  return {trackId: tfhd.readUInt32BE(4), samples};
}

function baseDecodeTime(traf) {
  const tfdt = find(traf.children, 'tfdt').payload;
  return tfdt[0] === 1 ? Number(tfdt.readBigUInt64BE(4) % 0x100000000n) : tfdt.readUInt32BE(4);
}

/** Media segment: encrypts samples, adds senc/saiz/saio, moves offsets. Returns the new file. */
function encryptSegment(clear, tracks, key) {
  const out = Buffer.from(clear);
  const top = parseBoxes(out);
  const moof = find(top, 'moof');
  if (top.filter((b) => b.type === 'moof').length !== 1) throw new Error('expected one moof per segment');
  const trafs = moof.children.filter((b) => b.type === 'traf');
  const added = [];
  for (const traf of trafs) {
    const {trackId, samples} = trafSamples(traf);
    const track = tracks.get(trackId);
    if (!track) throw new Error(`unknown track ${trackId}`);
    const bmdt = baseDecodeTime(traf);
    const entries = samples.map((s, i) => {
      const iv = Buffer.alloc(8);
      iv.writeUInt16BE(trackId & 0xffff, 0);
      iv.writeUInt32BE(bmdt, 2);
      iv.writeUInt16BE(i, 6);
      const data = out.subarray(moof.start + s.offset, moof.start + s.offset + s.size);
      const subs = encryptSample(data, iv, key, track.nalLength);
      const parts = [iv];
      if (subs) {
        const sub = Buffer.alloc(2 + subs.length * 6);
        sub.writeUInt16BE(subs.length, 0);
        subs.forEach(([c, e], k) => {
          sub.writeUInt16BE(c, 2 + k * 6);
          sub.writeUInt32BE(e, 4 + k * 6);
        });
        parts.push(sub);
      }
      return Buffer.concat(parts);
    });
    const sizes = entries.map((e) => e.length);
    if (sizes.some((s) => s > 255)) throw new Error('sample auxiliary information over 255 bytes');
    const uniform = sizes.every((s) => s === sizes[0]);
    const saiz = leaf('saiz', fullBox(0, 0), [uniform ? sizes[0] : 0], u32(sizes.length), uniform ? [] : sizes);
    const saio = leaf('saio', fullBox(0, 0), u32(1), u32(0));
    const senc = leaf('senc', fullBox(0, track.nalLength ? 2 : 0), u32(entries.length), ...entries);
    traf.children.push(saiz, saio, senc);
    added.push({saio, senc});
  }
  const delta = sizeOf(moof) - moof.size;
  for (const traf of trafs) {
    for (const trun of traf.children.filter((b) => b.type === 'trun')) trun.payload.writeInt32BE(trun.payload.readInt32BE(8) + delta, 8);
  }
  serialize([moof]); // sets offsets relative to the moof start
  for (const {saio, senc} of added) saio.payload.writeUInt32BE(senc.offset + 16, 8);
  const sidx = find(top, 'sidx');
  if (sidx) {
    const s = sidx.payload;
    const p = 4 + 8 + (s[0] === 0 ? 8 : 16) + 2;
    if (s.readUInt16BE(p) !== 1 || sidx.start > moof.start) throw new Error('unexpected sidx layout');
    const ref = s.readUInt32BE(p + 2);
    s.writeUInt32BE(((ref & 0x80000000) | ((ref & 0x7fffffff) + delta)) >>> 0, p + 2);
  }
  return Buffer.concat([out.subarray(0, moof.start), serialize([moof]), out.subarray(moof.start + moof.size)]);
}

/** Decrypts a segment from its own senc/saio/trun and checks it equals the clear one. */
function checkRoundTrip(encrypted, clear, key, name) {
  const top = parseBoxes(encrypted);
  const moof = find(top, 'moof');
  const plain = Buffer.from(encrypted);
  for (const traf of moof.children.filter((b) => b.type === 'traf')) {
    const {trackId, samples} = trafSamples(traf);
    const senc = find(traf.children, 'senc');
    const saio = find(traf.children, 'saio').payload;
    const sencData = senc && 8 + traf.start + 8 + senc.start + 16; // from the moof start
    if (!senc || saio.readUInt32BE(8) !== sencData) throw new Error(`${name}: saio does not point at senc`);
    const s = senc.payload;
    if (s.readUInt32BE(4) !== samples.length) throw new Error(`${name}: senc sample count`);
    let p = 8;
    for (const sample of samples) {
      const iv = Buffer.concat([s.subarray(p, p + 8), Buffer.alloc(8)]);
      p += 8;
      let subs = [[0, sample.size]];
      if (s.readUInt32BE(0) & 2) {
        subs = [];
        for (let n = s.readUInt16BE(p), k = 0; k < n; k += 1) subs.push([s.readUInt16BE(p + 2 + k * 6), s.readUInt32BE(p + 4 + k * 6)]);
        p += 2 + subs.length * 6;
      }
      const decipher = crypto.createDecipheriv('aes-128-ctr', key, iv);
      let q = moof.start + sample.offset;
      for (const [c, e] of subs) {
        q += c;
        decipher.update(encrypted.subarray(q, q + e)).copy(plain, q);
        q += e;
      }
      if (q !== moof.start + sample.offset + sample.size) throw new Error(`${name}: subsamples do not cover sample (track ${trackId})`);
    }
  }
  const mdat = (buf) => {
    const b = find(parseBoxes(buf), 'mdat');
    return buf.subarray(b.start, b.start + b.size);
  };
  if (!mdat(plain).equals(mdat(clear))) throw new Error(`${name}: decrypted mdat differs from the clear one`);
  if (mdat(encrypted).equals(mdat(clear))) throw new Error(`${name}: mdat not encrypted`);
}

/** Adds the cenc namespace and both ContentProtection elements to every AdaptationSet. */
function protectMpd(text, kidHex) {
  const kidUuid = kidHex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  if (!text.includes('xmlns:cenc=')) text = text.replace(/<MPD\b/, '<MPD xmlns:cenc="urn:mpeg:cenc:2013"');
  let count = 0;
  text = text.replace(/([ \t]*)(<AdaptationSet\b[^>]*>)/g, (_match, indent, open) => {
    count += 1;
    const inner = `${indent}\t`;
    return (
      `${indent}${open}\n`
      + `${inner}<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="${kidUuid}"/>\n`
      + `${inner}<ContentProtection schemeIdUri="urn:uuid:${CLEARKEY_UUID}" value="ClearKey1.0"/>`
    );
  });
  if (count === 0) throw new Error('no AdaptationSet in the MPD');
  return text;
}

function main([dir, kidHex, keyHex]) {
  if (!dir || !/^[0-9a-f]{32}$/.test(kidHex ?? '') || !/^[0-9a-f]{32}$/.test(keyHex ?? '')) {
    throw new Error('usage: cenc-encrypt.mjs DIR KID_HEX KEY_HEX');
  }
  const kid = Buffer.from(kidHex, 'hex');
  const key = Buffer.from(keyHex, 'hex');
  const files = fs.readdirSync(dir);
  const inits = files.filter((f) => /^init-stream\d+\.m4s$/.test(f));
  if (inits.length === 0) throw new Error(`no init segments in ${dir}`);
  let segments = 0;
  for (const init of inits) {
    // each representation: init-streamN.m4s + chunk-streamN-*.m4s
    const {init: encInit, tracks} = encryptInit(fs.readFileSync(path.join(dir, init)), kid);
    fs.writeFileSync(path.join(dir, init), encInit);
    for (const f of files.filter((n) => n.startsWith(`chunk-stream${init.slice(11, -4)}-`))) {
      const file = path.join(dir, f);
      const clear = fs.readFileSync(file);
      const enc = encryptSegment(clear, tracks, key);
      checkRoundTrip(enc, clear, key, f);
      fs.writeFileSync(file, enc);
      segments += 1;
    }
  }
  const mpd = path.join(dir, 'manifest.mpd');
  fs.writeFileSync(mpd, protectMpd(fs.readFileSync(mpd, 'utf8'), kidHex));
  console.log(`cenc-encrypt: ${inits.length} init + ${segments} media segments encrypted and checked in ${dir}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main(process.argv.slice(2));
