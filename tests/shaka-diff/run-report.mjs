#!/usr/bin/env node
// Prints, for every manifest of the shared corpus and the ffmpeg-made streams, how dash-plan's
// segment lists compare with shaka-player's DashParser (see shaka-plan.mjs and compare.mjs):
//   ok | differs (first difference per representation) | refused by us: MSG |
//   refused by shaka: MSG | refused by both
// The extra ffmpeg-made forms (SegmentList, SegmentBase; see forms-content.mjs) are included.
//
//   node tests/shaka-diff/run-report.mjs [--no-build] [--all-diffs] [FILE...]
//
// --all-diffs prints every differing representation instead of the first three per file.

import { buildDashPlan, countRepresentations, describeDiff, diffFile } from './compare.mjs';
import { contentFiles, corpusFiles, ensureContent, ensureForms, label } from './forms-content.mjs';

const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const allDiffs = args.includes('--all-diffs');
let files = args.filter((a) => !a.startsWith('--'));

if (!noBuild) buildDashPlan();
if (!files.length) {
  let extra = [];
  try {
    ensureContent();
    extra = [...contentFiles(), ...ensureForms()];
  } catch (e) {
    console.error(`(could not make the ffmpeg content: ${e.message})`);
  }
  files = [...corpusFiles(), ...extra];
}

const counts = {};
for (const file of files) {
  const r = await diffFile(file);
  counts[r.status] = (counts[r.status] || 0) + 1;
  const name = label(file);
  switch (r.status) {
    case 'ok':
      console.log(`ok                ${name} (${r.ours.records.length} records)`);
      break;
    case 'both-refuse':
      console.log(`refused by both   ${name}\n    us:    ${r.ours.refused}\n    shaka: ${r.shaka.refused}`);
      break;
    case 'refused-by-us':
      console.log(`refused by us     ${name}: ${r.ours.refused} (shaka: ${r.shaka.records.length} records)`);
      break;
    case 'refused-by-shaka':
      console.log(`refused by shaka  ${name}: ${r.shaka.refused} (us: ${r.ours.records.length} records)`);
      break;
    default: {
      const tracks = Math.max(countRepresentations(r.ours.records), countRepresentations(r.shaka.records));
      console.log(`differs           ${name}: ${r.diffs.length} of ${tracks} representations`);
      const shown = allDiffs ? r.diffs : r.diffs.slice(0, 3);
      for (const d of shown) console.log(`    ${describeDiff(d)}`);
      if (shown.length < r.diffs.length) console.log(`    ... and ${r.diffs.length - shown.length} more (--all-diffs)`);
    }
  }
}
console.log(
  `\n${Object.entries(counts)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}`,
);
