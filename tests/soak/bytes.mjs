// The soak's byte check (tests/soak/soak.mjs): every stored segment (chunks joined) is the
// origin's, from the source its plan names, and a completed title has all of its plan, with
// getAllDownloads' size and progress saying what is stored.

import {CONTENT_DIR} from '../e2e/harness.mjs';
import {originBytes, plannedItems, sha256, sourceOf} from '../e2e/engine-helpers.mjs';

/**
 * Checks the stored bytes of `entries` (the worker's entry records) against the origin, read
 * through the page's `readStore`; counts into `figures` and returns the entries with problems.
 * `final` is the last listing by id, `titleOf` the soak's titles by id.
 */
export async function verifyBytes({page, entries, final, titleOf, figures}) {
  const bad = [];
  for (const e of entries) {
    const {entry, items} = await page.evaluate((id) => window.readStore(id), e.id);
    const planned = entry?.plan ? plannedItems(entry.plan) : [];
    const plannedByKey = new Map(planned.map((p) => [`${p.track}/${p.index}`, p]));
    const problems = [];
    let bytes = 0;
    for (const item of items) {
      const key = `${item.track}/${item.index}`;
      const chunksOk = item.chunks.every((c, i) => c === i);
      if (!chunksOk || item.recordSize !== item.blobSize) problems.push({key, chunks: item.chunks, recordSize: item.recordSize, blobSize: item.blobSize});
      let want;
      try {
        want = Buffer.concat(item.sources.map((s) => originBytes(CONTENT_DIR, s.url, s.range)));
      } catch (err) {
        problems.push({key, sources: item.sources, error: String(err.message ?? err)});
        continue;
      }
      if (item.blobSize !== want.length || item.sha256 !== sha256(want)) {
        problems.push({key, sources: item.sources, size: item.blobSize, originSize: want.length, sha256: item.sha256, originSha256: sha256(want)});
        continue;
      }
      if (item.track !== 'poster') {
        // As tests/e2e/engine-helpers.mjs checkStored: a whole file stored in slices has ranges.
        const plan = plannedByKey.get(key);
        const source = sourceOf(item);
        const expectRange = plan?.range ?? (item.sources.length > 1 ? [0, item.blobSize - 1] : null);
        if (!plan || source.url !== plan.url || JSON.stringify(source.range) !== JSON.stringify(expectRange)) {
          problems.push({key, source, planned: plan ?? 'not in the plan'});
        }
      }
      figures.segmentsVerified += 1;
      bytes += want.length;
    }
    if (e.state === 'completed') {
      const stored = new Set(items.map((i) => `${i.track}/${i.index}`));
      const missing = planned.filter((p) => !stored.has(`${p.track}/${p.index}`)).map((p) => `${p.track}/${p.index}`);
      if (missing.length) problems.push({missing});
      // What getAllDownloads says of it is what is stored (with or without the poster).
      const summary = final.get(e.id);
      const media = items.filter((i) => i.track !== 'poster').reduce((n, i) => n + i.recordSize, 0);
      const all = items.reduce((n, i) => n + i.recordSize, 0);
      if (summary && ((summary.size !== media && summary.size !== all) || summary.progress !== 100)) {
        problems.push({summary: {size: summary.size, progress: summary.progress}, storedBytes: media, withPoster: all});
      }
    }
    figures.bytesVerified += bytes;
    if (problems.length) bad.push({id: e.id, state: e.state, problems: problems.slice(0, 10), history: titleOf.get(e.id)?.history});
    else if (e.state === 'completed') figures.titles.verified += 1;
  }
  return bad;
}
