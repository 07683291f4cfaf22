// The whole machine's CPU time, from /proc/stat (Linux): how busy every core was over a span,
// whatever process used it (the browser's processes, the loopback servers in this process,
// playwright). On a machine with few cores a download that fetches and stores at once shares
// them between both halves; these figures say how much of the machine each half takes.
//
//   const span = cpuSpan(); ...; const {busyS, cores, share} = span.stop();

import os from 'node:os';
import {readProc} from './proc-rss.mjs';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux this runs on. */
const TICKS_PER_S = 100;

function read() {
  const first = readProc('/proc/stat')?.split('\n', 1)[0];
  if (!first) return null; // not Linux: no figures
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, idle, iowait, irq, softirq] = first.trim().split(/\s+/).slice(1).map(Number);
  // Steal (time the host gave other guests) is neither busy nor idle here.
  return {busy: user + nice + system + irq + softirq, idle: idle + iowait};
}

/**
 * Starts a span; stop() gives `busyS` (CPU seconds used over every core), `cores`, and
 * `share` (busy ÷ (busy + idle): 1 means every core was busy the whole span), or null where
 * /proc/stat cannot be read.
 */
export function cpuSpan() {
  const a = read();
  return {
    stop() {
      const b = read();
      if (!a || !b) return null;
      const busy = b.busy - a.busy;
      const idle = b.idle - a.idle;
      return {busyS: busy / TICKS_PER_S, cores: os.cpus().length, share: busy + idle > 0 ? busy / (busy + idle) : 0};
    },
  };
}
