// The soak's random draws (tests/soak/soak.mjs), all from one seeded PRNG so that `--seed`
// repeats them: which action, which title, which delay, and which fault-proxy rule
// (tests/server/fault-proxy.mjs) to switch on.

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function rngOf(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The segment requests of the stream `form` of tests/.content. */
const segmentsOf = (form) => new RegExp(`/content/${form}/.*\\.(m4s|mp4|webm)$`);

/**
 * The draws of one run from `seed`; `forms()` lists the streams in play (one per weight unit).
 * @param {number} seed
 * @param {() => string[]} forms
 */
export function draws(seed, forms) {
  const random = rngOf(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  /** One key of `weights` ({key: weight}), drawn in proportion to the weights; null when all are 0. */
  function weighted(weights) {
    const live = Object.entries(weights).filter(([, w]) => w > 0);
    const total = live.reduce((n, [, w]) => n + w, 0);
    if (total === 0) return null;
    let x = random() * total;
    for (const [k, w] of live) {
      x -= w;
      if (x < 0) return k;
    }
    return live.at(-1)[0];
  }

  /** A random fault rule (a fault-proxy rule spec plus a `label` for the log). */
  function randomFault() {
    const form = pick([...new Set(forms())]);
    const where = weighted({all: 3, form: 4, manifest: 1});
    const match = where === 'all' ? /\/content\/.*\.(m4s|mp4|webm)$/ : where === 'form' ? segmentsOf(form) : /manifest\.mpd$/;
    const scope = where === 'form' ? form : where;
    const finite = () => (random() < 0.3 ? Infinity : between(1, 8));
    const kind = weighted({delay: 3, 'status-5xx': 3, 'status-404': 0.5, drop: 2, stall: 1, length: 1.5, 'ignore-range': where === 'manifest' ? 0 : 1});
    switch (kind) {
      case 'delay':
        return {label: `delay@${scope}`, match, action: 'delay', delayMs: between(1500, 5000)};
      case 'status-5xx': {
        const status = pick([500, 503, 429, 408]);
        return {label: `status${status}@${scope}`, match, action: 'status', status, times: finite()};
      }
      case 'status-404':
        return {label: `status404@${scope}`, match, action: 'status', status: 404, times: 1};
      case 'drop':
        return {label: `drop@${scope}`, match, action: 'drop', times: finite()};
      case 'stall':
        return {label: `stall@${scope}`, match, action: 'stall', times: between(1, 2)};
      case 'length': {
        const lengthDelta = pick([-1, 1]) * between(1, 400);
        return {label: `length${lengthDelta > 0 ? '+' : ''}${lengthDelta}@${scope}`, match, action: 'length', lengthDelta, times: finite()};
      }
      default:
        return {label: `ignore-range@${scope}`, match, action: 'ignore-range'};
    }
  }

  return {random, pick, between, weighted, randomFault};
}
