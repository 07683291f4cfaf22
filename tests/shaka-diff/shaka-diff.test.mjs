// Differential test of dash-plan (crates/mpd) against shaka-player's DashParser:
// for every static MPD of ../shared/corpus and every ffmpeg-made form, the per-representation
// lists of (URL, byte range, start, end) must equal shaka's, to the millisecond. A
// disagreement is fixed, or written down in KNOWN_DISAGREEMENTS with the reason shaka is wrong.
//
//   node --test tests/shaka-diff/
//   node tests/shaka-diff/run-report.mjs      # the same comparison as a readable listing
//
// How shaka's lists are made (and how periods are kept apart): see shaka-plan.mjs.

import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { buildDashPlan, comparePlans, countRepresentations, dashPlan, describeDiff } from './compare.mjs';
import { contentFiles, corpusFiles, ensureContent, ensureForms, formFiles, label } from './forms-content.mjs';
import { shakaPlanResult, SHAKA_LIVE_CODE } from './shaka-plan.mjs';

/**
 * Files where shaka is wrong, with the reason: label (as in the test names) ->
 *   {reason: string, match?: (diff) => boolean}
 * Without `match`, every difference of the file is excused; with it, only the differences it
 * returns true for (diff: see comparePlans in compare.mjs). An entry that no longer excuses
 * anything makes the test fail, so that the map stays true.
 *
 * Example (not enabled):
 *   'real-mpds/aws.xml': {
 *     reason: 'shaka stretches the last segment of a Period to the Period end (player-side gap ' +
 *       'filling); its own trueEndTime equals ours',
 *     match: lastSegmentEndStretchedToPeriodEnd,
 *   },
 */
const STRETCH = {
  reason:
    'shaka stretches the last segment of a representation to the Period end (a player-side '
    + "gap filler); the MPD gives the shorter end, which is what we store and play (shaka's own "
    + 'trueEndTime equals ours where it keeps one)',
  match: (d) => lastSegmentEndStretchedToPeriodEnd(d),
};
export const KNOWN_DISAGREEMENTS = {
  'real-mpds/a2d-tv.mpd': STRETCH,
  'real-mpds/ad-insertion-testcase6-av5.mpd': STRETCH,
  'real-mpds/aws.xml': STRETCH,
  'real-mpds/multiple_supplementals.mpd': STRETCH,
  'real-mpds/telenet-mid-ad-rolls.mpd': STRETCH,
  'real-mpds/vod-aip-unif-streaming.mpd': STRETCH,
  'ffmpeg-forms/segmentbase-webm/manifest.mpd': {
    reason:
      'WebM Cues give no end to the last cluster: shaka reads it to the end of the file '
      + '(an open range, which takes the Cues after it too), we end it where the Cues begin; and '
      + 'shaka stretches its end time to the Period end',
    match: (d) =>
      d.problem === 'record'
      && d.index === d.oursCount - 1
      && d.oursCount === d.shakaCount
      && d.fields.every((f) => f === 'range' || f === 'end')
      && d.shaka.range?.[1] == null
      && d.shaka.range?.[0] === d.ours.range?.[0]
      && d.ours.range[1] > d.ours.range[0]
      && (!d.fields.includes('end') || lastSegmentEndStretchedToPeriodEnd({ ...d, fields: ['end'] })),
  },
};

/**
 * Matches a difference that is only shaka's stretching of the last segment of a representation
 * in a Period to the Period end: same URL and range, same start, shaka's end later than ours, and
 * shaka's untruncated end (trueEndTime, known for SegmentTimeline) equal to ours when it has one.
 */
export function lastSegmentEndStretchedToPeriodEnd(d) {
  return (
    d.problem === 'record'
    && d.fields.length === 1
    && d.fields[0] === 'end'
    && d.index === d.oursCount - 1
    && d.oursCount === d.shakaCount
    && d.shaka.end > d.ours.end
    && (d.shaka.trueEnd == null || Math.abs(d.shaka.trueEnd - d.ours.end) <= 0.001)
  );
}

const MALFORMED = new Set(['real-mpds/incomplete.mpd']);
const MAX_LINES = 25;

// shaka's verdict on the corpus decides how each file is tested (live ones must be refused).
const corpus = corpusFiles();
const shakaResults = new Map();
for (const file of corpus) shakaResults.set(file, await shakaPlanResult(file));

let setupError = null;
let contentError = null;
let formsError = null;
before(() => {
  try {
    buildDashPlan();
  } catch (e) {
    setupError = e;
  }
  try {
    ensureContent();
  } catch (e) {
    contentError = e;
  }
  try {
    if (!contentError) ensureForms();
  } catch (e) {
    formsError = e;
  }
});

function ours(file) {
  if (setupError) throw new Error(`cargo build -p mpd --bin dash-plan failed: ${setupError.message}`);
  return dashPlan(file);
}

async function assertSameSegments(t, file, shaka) {
  const name = label(file);
  const mine = ours(file);
  shaka ??= await shakaPlanResult(file);
  if (mine.refused && shaka.refused) {
    assert.fail(`${name}: both refuse it, so nothing is compared\n  dash-plan: ${mine.refused}\n  shaka: ${shaka.refused}`);
  }
  if (shaka.refused) {
    assert.fail(
      `${name}: shaka refuses it (${shaka.refused}) but dash-plan plans `
        + `${mine.records.length} records in ${countRepresentations(mine.records)} representations`,
    );
  }
  if (mine.refused && KNOWN_DISAGREEMENTS[name]?.weRefuse) {
    assert.match(mine.refused, KNOWN_DISAGREEMENTS[name].weRefuse);
    t.diagnostic(`refused by dash-plan, a known gap: ${KNOWN_DISAGREEMENTS[name].reason}`);
    return;
  }
  if (mine.refused) {
    assert.fail(
      `${name}: refused by dash-plan: ${mine.refused}\n  shaka plans ${shaka.records.length} `
        + `records in ${countRepresentations(shaka.records)} representations`,
    );
  }
  const diffs = comparePlans(mine.records, shaka.records);
  const known = KNOWN_DISAGREEMENTS[name];
  const excused = known ? diffs.filter((d) => (known.match ? known.match(d) : true)) : [];
  const remaining = diffs.filter((d) => !excused.includes(d));
  const reps = countRepresentations(mine.records);
  if (remaining.length) {
    const lines = remaining.slice(0, MAX_LINES).map((d) => `  ${describeDiff(d)}`);
    if (remaining.length > MAX_LINES) lines.push(`  ... and ${remaining.length - MAX_LINES} more`);
    const note = known ? `\n  (KNOWN_DISAGREEMENTS excuses ${excused.length} other(s): ${known.reason})` : '';
    assert.fail(
      `${name}: ${remaining.length} of ${reps} representations differ from shaka `
        + `(first difference of each; times compared to 0.001 s):\n${lines.join('\n')}${note}`,
    );
  }
  if (known && !excused.length) {
    assert.fail(`${name}: now equal to shaka; remove its KNOWN_DISAGREEMENTS entry (${known.reason})`);
  }
  if (excused.length) t.diagnostic(`${excused.length} representation(s) excused: ${known.reason}`);
  t.diagnostic(`${mine.records.length} records in ${reps} representations compared`);
}

describe('dash-plan against shaka-player DashParser, shared corpus', () => {
  for (const file of corpus) {
    const name = label(file);
    const shaka = shakaResults.get(file);
    if (MALFORMED.has(name)) {
      test(`malformed ${name} is refused by dash-plan and by shaka`, () => {
        const mine = ours(file);
        // shaka's XML parser is lenient: it reads the unterminated MPD as one with no Period,
        // and then refuses it for having nothing to play (as shaka.Player would: NO_VARIANTS).
        assert.ok(shaka.refused, `shaka plans ${shaka.records?.length} records for ${name}`);
        assert.ok(mine.refused, `dash-plan plans ${mine.records?.length} records for malformed ${name}`);
      });
    } else if (shaka.refused && shaka.code === SHAKA_LIVE_CODE) {
      test(`live ${name} is refused by dash-plan as by shaka`, () => {
        const mine = ours(file);
        assert.ok(mine.refused, `dash-plan plans ${mine.records?.length} records for live ${name}`);
        assert.match(mine.refused, /live|dynamic/i, 'the refusal should say the manifest is live');
      });
    } else if (shaka.refused) {
      test(`${name}, refused by shaka, is refused by dash-plan too`, (t) => {
        const mine = ours(file);
        t.diagnostic(`shaka: ${shaka.refused}`);
        assert.ok(mine.refused, `shaka refuses ${name} (${shaka.refused}) but dash-plan plans ` + `${mine.records?.length} records`);
        t.diagnostic(`dash-plan: ${mine.refused}`);
      });
    } else {
      test(`segment lists of ${name} equal shaka's`, (t) => assertSameSegments(t, file, shaka));
    }
  }
});

describe('dash-plan against shaka-player DashParser, ffmpeg-made content', () => {
  for (const file of contentFiles()) {
    test(`segment lists of ${label(file)} equal shaka's`, (t) => {
      if (contentError) throw new Error(`tests/content/make-content.sh failed: ${contentError.message}`);
      return assertSameSegments(t, file);
    });
  }
  // SegmentList and SegmentBase forms made by ffmpeg from the same content (forms-content.mjs).
  for (const file of formFiles()) {
    test(`segment lists of ${label(file)} equal shaka's`, (t) => {
      if (contentError || formsError) throw new Error(`making the ffmpeg forms failed: ${(contentError || formsError).message}`);
      return assertSameSegments(t, file);
    });
  }
});

describe('the shaka side of the comparison', () => {
  test('shaka-plan attributes segments of multi-period manifests to their own Period', async () => {
    const file = corpus.find((f) => path.basename(f) === 'ad-insertion-testcase6-av2.mpd');
    assert.ok(file, 'corpus file ad-insertion-testcase6-av2.mpd is missing');
    const { records } = await shakaPlanResult(file);
    assert.ok(records, 'shaka refused ad-insertion-testcase6-av2.mpd');
    assert.deepEqual([...new Set(records.map((r) => r.period))], ['P1', 'P2']);
    // P1 (0-6 s) ends where P2 starts; the flattened streams would run across both.
    const media = records.filter((r) => r.kind === 'media');
    assert.ok(
      media.filter((r) => r.period === 'P1').every((r) => r.end <= 6 + 1e-9),
      'P1 segments end by 6 s',
    );
    const p2video = media.filter((r) => r.period === 'P2' && r.track === 'v1');
    assert.equal(p2video[0].start, 6);
    assert.match(p2video[0].url, /video_4\.m4s$/);
  });

  test('shaka-plan reads SegmentBase indexes through Range requests', async () => {
    if (contentError || formsError) throw new Error(`making the ffmpeg forms failed: ${(contentError || formsError).message}`);
    const file = formFiles().find((f) => f.includes('segmentbase-mp4'));
    const { records, refused } = await shakaPlanResult(file);
    assert.ok(records, `shaka refused the SegmentBase form: ${refused}`);
    const media = records.filter((r) => r.kind === 'media');
    assert.ok(media.length >= 18, `only ${media.length} media segments`);
    assert.ok(
      media.every((r) => Array.isArray(r.range)),
      'every SegmentBase segment has a byte range',
    );
  });
});
