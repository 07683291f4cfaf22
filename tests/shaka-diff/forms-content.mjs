// The manifests the differential test compares: the shared corpus (../shared/corpus, or
// CORPUS_DIR), the ffmpeg-made streams of tests/content/make-content.sh, and extra ffmpeg-made
// forms that neither covers (made here, see ensureForms), and their labels in reports.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_DIR as REPO } from './shaka-load.mjs';
import { writeVariants } from '../content/variants.mjs';

export const CORPUS_DIR = process.env.CORPUS_DIR || path.resolve(REPO, '../shared/corpus');
export const CONTENT_DIR = path.resolve(REPO, process.env.CONTENT_DIR || 'tests/.content');

/** Every manifest of the shared corpus (real-mpds/ and livesim2/**), sorted. */
export function corpusFiles() {
  const out = [];
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(mpd|xml)$/i.test(e.name)) out.push(p);
    }
  };
  walk(path.join(CORPUS_DIR, 'real-mpds'));
  walk(path.join(CORPUS_DIR, 'livesim2'));
  return out.sort();
}

/** The ffmpeg-made streams (tests/content/make-content.sh). */
export function contentFiles() {
  return [
    ...['template', 'timeline', 'list', 'base', 'aes128'].map((s) => path.join(CONTENT_DIR, s, 'manifest.mpd')),
    ...['xlink.mpd', 'two-periods.mpd'].map((f) => path.join(CONTENT_DIR, 'template', f)),
  ];
}

/** Makes the ffmpeg content when it is missing (the script is idempotent). */
export function ensureContent() {
  if (contentFiles().every((f) => fs.existsSync(f))) return;
  execFileSync('bash', [path.join(REPO, 'tests/content/make-content.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, CONTENT_DIR },
  });
  writeVariants(CONTENT_DIR);
}

/** Label of a manifest for reports and test names: path relative to the corpus or the repo. */
export function label(file) {
  const forms = path.relative(FORMS_DIR, file);
  if (!forms.startsWith('..')) return `ffmpeg-forms/${forms}`;
  const rel = path.relative(CORPUS_DIR, file);
  if (!rel.startsWith('..')) return rel;
  const inRepo = path.relative(REPO, file);
  return inRepo.startsWith('..') ? path.resolve(file) : inRepo;
}

// Extra ffmpeg-made forms that neither the corpus nor make-content.sh cover, made from the
// template stream of make-content.sh (remux only, except WebM which is encoded from lavfi; about
// 4 s the first time) into a cache directory under the OS temp dir, remade when the content
// changes:
//   segmentlist/         ffmpeg dash -use_template 0: SegmentList of SegmentURL@media files
//   segmentlist-ranges/  ffmpeg dash -single_file 1: one file per stream, SegmentURL@mediaRange
//   segmentbase-mp4/     ffmpeg dash -single_file 1 -global_sidx 1 media; ffmpeg writes a
//                        SegmentList for it, which we replace by the equivalent
//                        SegmentBase@indexRange (the sidx box) + Initialization@range (ftyp+moov)
//   segmentbase-webm/    ffmpeg webm (-dash 1) + webm_dash_manifest: SegmentBase with WebM Cues
const FORMS_RECIPE = 'v1 segmentlist segmentlist-ranges segmentbase-mp4 segmentbase-webm';
export const FORMS = ['segmentlist', 'segmentlist-ranges', 'segmentbase-mp4', 'segmentbase-webm'];
export const FORMS_DIR = path.join(os.tmpdir(), 'shaka-diff-ffmpeg-forms');

export function formFiles() {
  return FORMS.map((f) => path.join(FORMS_DIR, f, 'manifest.mpd'));
}

/** Makes the extra forms if missing or stale; returns their manifests. Needs ffmpeg. */
export function ensureForms() {
  const template = path.join(CONTENT_DIR, 'template');
  const marker = path.join(FORMS_DIR, '.complete');
  let contentStamp = '';
  try {
    contentStamp = fs.readFileSync(path.join(CONTENT_DIR, '.complete'), 'utf8').trim();
  } catch {}
  const recipe = `${FORMS_RECIPE} | ${contentStamp} | ${fs.statSync(path.join(template, 'manifest.mpd')).mtimeMs}`;
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === recipe && formFiles().every((f) => fs.existsSync(f))) {
    return formFiles();
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shaka-diff-forms-build-'));
  try {
    const ff = (args, cwd) =>
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    // Reassemble each stream of the template content into one fragmented MP4.
    const inits = fs
      .readdirSync(template)
      .filter((n) => /^init-stream\d+\.m4s$/.test(n))
      .sort();
    const inputs = [];
    for (const init of inits) {
      const n = init.match(/\d+/)[0];
      const chunks = fs
        .readdirSync(template)
        .filter((c) => c.startsWith(`chunk-stream${n}-`))
        .sort();
      const out = path.join(work, `s${n}.mp4`);
      fs.writeFileSync(out, Buffer.concat([init, ...chunks].map((c) => fs.readFileSync(path.join(template, c)))));
      inputs.push(out);
    }
    const dash = (dir, extra) => {
      fs.mkdirSync(path.join(work, dir));
      ff(
        [
          ...inputs.flatMap((i) => ['-i', i]),
          ...inputs.flatMap((_, i) => ['-map', String(i)]),
          '-c',
          'copy',
          '-f',
          'dash',
          '-seg_duration',
          '2',
          '-use_template',
          '0',
          '-use_timeline',
          '0',
          ...extra,
          '-adaptation_sets',
          'id=0,streams=v id=1,streams=a',
          'manifest.mpd',
        ],
        path.join(work, dir),
      );
    };
    dash('segmentlist', []);
    dash('segmentlist-ranges', ['-single_file', '1']);
    dash('segmentbase-mp4', ['-single_file', '1', '-global_sidx', '1']);
    toSegmentBase(path.join(work, 'segmentbase-mp4'));
    const webm = path.join(work, 'segmentbase-webm');
    fs.mkdirSync(webm);
    ff(
      [
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=320x180:rate=25:duration=12',
        '-c:v',
        'libvpx',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-g',
        '50',
        '-keyint_min',
        '50',
        '-b:v',
        '200k',
        '-dash',
        '1',
        '-f',
        'webm',
        'video.webm',
      ],
      webm,
    );
    ff(
      ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=12', '-c:a', 'libopus', '-b:a', '64k', '-dash', '1', '-f', 'webm', 'audio.webm'],
      webm,
    );
    ff(
      [
        '-f',
        'webm_dash_manifest',
        '-i',
        'video.webm',
        '-f',
        'webm_dash_manifest',
        '-i',
        'audio.webm',
        '-c',
        'copy',
        '-map',
        '0',
        '-map',
        '1',
        '-f',
        'webm_dash_manifest',
        '-adaptation_sets',
        'id=0,streams=0 id=1,streams=1',
        'manifest.mpd',
      ],
      webm,
    );
    for (const i of inputs) fs.rmSync(i);
    fs.writeFileSync(path.join(work, '.complete'), recipe);
    fs.rmSync(FORMS_DIR, { recursive: true, force: true });
    fs.renameSync(work, FORMS_DIR);
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    if (formFiles().every((f) => fs.existsSync(f))) return formFiles(); // made concurrently
    throw e;
  }
  return formFiles();
}

/** Rewrites ffmpeg's SegmentList (global_sidx single files) as SegmentBase pointing at the sidx. */
function toSegmentBase(dir) {
  const mpdPath = path.join(dir, 'manifest.mpd');
  let mpd = fs.readFileSync(mpdPath, 'utf8');
  mpd = mpd.replace(/<BaseURL>([^<]+)<\/BaseURL>(\s*)<SegmentList[^>]*>[\s\S]*?<\/SegmentList>/g, (_, file, ws) => {
    const boxes = topLevelBoxes(fs.readFileSync(path.join(dir, file)));
    const moov = boxes.find((b) => b.type === 'moov');
    const sidx = boxes.find((b) => b.type === 'sidx');
    if (!moov || !sidx) throw new Error(`${file}: no moov/sidx`);
    return `<BaseURL>${file}</BaseURL>${ws}<SegmentBase indexRange="${sidx.start}-${sidx.end}">` + `<Initialization range="0-${moov.end}" /></SegmentBase>`;
  });
  mpd = mpd.replace('urn:mpeg:dash:profile:isoff-live:2011', 'urn:mpeg:dash:profile:isoff-on-demand:2011');
  fs.writeFileSync(mpdPath, mpd);
}

function topLevelBoxes(buf) {
  const boxes = [];
  for (let o = 0; o + 8 <= buf.length; ) {
    let size = buf.readUInt32BE(o);
    if (size === 1) size = Number(buf.readBigUInt64BE(o + 8));
    if (size === 0) size = buf.length - o;
    boxes.push({ type: buf.toString('latin1', o + 4, o + 8), start: o, end: o + size - 1 });
    o += size;
  }
  return boxes;
}
