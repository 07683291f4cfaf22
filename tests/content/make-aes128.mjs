// DASH segment encryption (ISO/IEC 23009-4, AES-128-CBC) of a clear SegmentTemplate stream:
//   node tests/content/make-aes128.mjs SRC_DIR OUT_DIR [--key HEX32] [--iv HEX32] [--check]
//
// SRC_DIR is an ffmpeg-made stream (manifest.mpd + init/chunk .m4s files, e.g.
// tests/.content/template from tests/content/make-content.sh). OUT_DIR gets:
//   - every .m4s file (init segments too) as one AES-128-CBC message with PKCS#7 padding, all
//     with the same key and IV: the shape shaka-player 5.2 decrypts;
//   - key.bin, the 16 raw key bytes;
//   - manifest.mpd with, in every AdaptationSet,
//       <ContentProtection schemeIdUri="urn:mpeg:dash:sea:2012">
//         <sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>
//         <sea:CryptoPeriod IV="0x…" keyUriTemplate="key.bin"/>
//       </ContentProtection>
//     (key.bin is relative, so the stream works wherever OUT_DIR is served);
//   - the other files of SRC_DIR copied unchanged.
// Key and IV default to fixed test values (tests need reproducible content; this is no
// protection). Every file is decrypted again and compared with its source. With --check,
// shaka-player's own DashParser (loaded by tests/shaka-diff/shaka-load.mjs) parses the new
// manifest and decrypts each representation's init and first media segment with its aesKey.
// Node built-ins only.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {pathToFileURL} from 'node:url';

const DEFAULT_KEY = '000102030405060708090a0b0c0d0e0f';
const DEFAULT_IV = 'f0e0d0c0b0a090807060504030201000';
const SEA_NS = 'urn:mpeg:dash:schema:sea:2012';

function usage(why) {
  console.error(`${why}\nusage: node tests/content/make-aes128.mjs SRC_DIR OUT_DIR [--key HEX32] [--iv HEX32] [--check]`);
  process.exit(2);
}

function hex16(name, value) {
  if (!/^[0-9a-fA-F]{32}$/.test(value)) usage(`${name} must be 32 hex digits, got ${value}`);
  return Buffer.from(value, 'hex');
}

function parseArgs(argv) {
  const out = {key: DEFAULT_KEY, iv: DEFAULT_IV, check: false, dirs: []};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--key' || a === '--iv') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      out[a.slice(2)] = argv[++i];
    } else if (a === '--check') out.check = true;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else out.dirs.push(a);
  }
  if (out.dirs.length !== 2) usage('SRC_DIR and OUT_DIR are required');
  return out;
}

export function encrypt(key, iv, clear) {
  const c = crypto.createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([c.update(clear), c.final()]);
}

export function decrypt(key, iv, data) {
  const d = crypto.createDecipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([d.update(data), d.final()]);
}

/** The manifest with the sea namespace on MPD and the descriptor opening every AdaptationSet. */
export function seaManifest(text, ivHex, keyUri) {
  if (text.includes('urn:mpeg:dash:sea:2012')) throw new Error('the manifest already has segment encryption');
  const cp =
    `\n<ContentProtection schemeIdUri="urn:mpeg:dash:sea:2012">`
    + `<sea:SegmentEncryption schemeIdUri="urn:mpeg:dash:sea:aes128-cbc:2013"/>`
    + `<sea:CryptoPeriod IV="0x${ivHex.toUpperCase()}" keyUriTemplate="${keyUri}"/>`
    + `</ContentProtection>`;
  let sets = 0;
  const withCp = text.replace(/<AdaptationSet\b[^>]*[^/]>/g, (open) => {
    sets++;
    return open + cp;
  });
  if (sets === 0) throw new Error('the manifest has no AdaptationSet to protect');
  let mpds = 0;
  const out = withCp.replace(/<MPD\b/, (m) => {
    mpds++;
    return `${m} xmlns:sea="${SEA_NS}"`;
  });
  if (mpds !== 1) throw new Error('no <MPD> root element');
  return out;
}

async function shakaCheck(outDir, srcDir) {
  const {loadShakaBuild, manifestPlayerInterface, REPO_DIR} = await import('../shaka-diff/shaka-load.mjs');
  const {shaka, ctx} = loadShakaBuild(path.join(REPO_DIR, 'node_modules/shaka-player/dist/shaka-player.compiled.debug.js'));
  // Shaka runs in a vm realm: node's WebCrypto refuses that realm's ArrayBuffers, so bytes are
  // copied into this realm on their way in.
  const here = (b) => Uint8Array.from(ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));
  ctx.crypto = {
    getRandomValues: (a) => crypto.getRandomValues(a),
    randomUUID: () => crypto.randomUUID(),
    subtle: {
      importKey: (format, data, alg, extractable, usages) => crypto.subtle.importKey(format, here(data), {...alg}, extractable, [...usages]),
    },
  };
  const config = shaka.util.PlayerConfiguration.createDefault();
  const retry = shaka.net.NetworkingEngine.defaultRetryParameters();
  retry.maxAttempts = 1;
  config.manifest.retryParameters = retry;
  const net = new shaka.net.NetworkingEngine();
  net.configure(config.networking);
  const errors = [];
  const parser = new shaka.dash.DashParser();
  parser.configure(config.manifest);
  const uri = pathToFileURL(path.join(outDir, 'manifest.mpd')).href;
  const manifest = await parser.start(uri, manifestPlayerInterface(net, retry, errors));
  if (errors.length) throw errors[0];
  const streams = new Set();
  for (const v of manifest.variants) {
    if (v.video) streams.add(v.video);
    if (v.audio) streams.add(v.audio);
  }
  const fetch = async (ref) => {
    const req = shaka.net.NetworkingEngine.makeRequest(ref.getUris(), retry);
    const resp = await net.request(shaka.net.NetworkingEngine.RequestType.SEGMENT, req).promise;
    return resp.data;
  };
  let checked = 0;
  for (const stream of streams) {
    await stream.createSegmentIndex();
    const refs = [];
    stream.segmentIndex.forEachTopLevelReference((r) => refs.push(r));
    const first = refs[0];
    for (const ref of [first.initSegmentReference, first]) {
      const aes = ref.aesKey;
      if (aes?.blockCipherMode !== 'CBC' || !aes.iv) {
        throw new Error(`shaka sees no AES-128-CBC key with an IV on ${ref.getUris()[0]}`);
      }
      // What shaka.media.SegmentUtils.aesDecrypt does for CBC (it is not exported): the key
      // fetched by shaka's own fetchKey, the IV shaka parsed from the manifest.
      if (!aes.cryptoKey) await aes.fetchKey();
      const clear = await crypto.subtle.decrypt({name: 'AES-CBC', iv: here(aes.iv)}, aes.cryptoKey, here(await fetch(ref)));
      const name = path.basename(new URL(ref.getUris()[0]).pathname);
      const want = fs.readFileSync(path.join(srcDir, name));
      if (!Buffer.from(clear).equals(want)) throw new Error(`shaka decrypted ${name} to other bytes than the source`);
      checked++;
    }
  }
  await parser.stop();
  return checked;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const [src, out] = args.dirs.map((d) => path.resolve(d));
  const key = hex16('--key', args.key);
  const iv = hex16('--iv', args.iv);
  const mpdPath = path.join(src, 'manifest.mpd');
  if (!fs.existsSync(mpdPath)) usage(`${mpdPath} does not exist (run bash tests/content/make-content.sh)`);
  if (src === out) usage('OUT_DIR must differ from SRC_DIR');
  fs.mkdirSync(out, {recursive: true});
  let segments = 0;
  for (const entry of fs.readdirSync(src, {withFileTypes: true})) {
    if (!entry.isFile() || entry.name === 'manifest.mpd') continue;
    const body = fs.readFileSync(path.join(src, entry.name));
    if (!entry.name.endsWith('.m4s')) {
      fs.writeFileSync(path.join(out, entry.name), body);
      continue;
    }
    const enc = encrypt(key, iv, body);
    if (!decrypt(key, iv, enc).equals(body)) throw new Error(`${entry.name} does not decrypt back`);
    fs.writeFileSync(path.join(out, entry.name), enc);
    segments++;
  }
  if (segments === 0) throw new Error(`${src} has no .m4s segments`);
  fs.writeFileSync(path.join(out, 'key.bin'), key);
  const text = seaManifest(fs.readFileSync(mpdPath, 'utf8'), iv.toString('hex'), 'key.bin');
  fs.writeFileSync(path.join(out, 'manifest.mpd'), text);
  let line = `wrote ${out}: ${segments} encrypted segments, key.bin (key ${key.toString('hex')}, IV ${iv.toString('hex')})`;
  if (args.check) line += `; shaka-player decrypted ${await shakaCheck(out, src)} segments back to the source`;
  console.log(line);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e?.stack || e);
    process.exit(1);
  });
}
