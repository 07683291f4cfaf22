// Resident memory of a process tree, from /proc (Linux): the sum of RSS of a process and all
// its descendants (pages shared between processes count once per process, as `ps` shows them).
//
//   const sampler = startRssSampler(browserPid, 100); ... const {base, peak, growth} = sampler.stop();

import fs from 'node:fs';

const PAGE = 4096;

/** A /proc file's text, or null where it cannot be read (the process ended, or not Linux). */
export function readProc(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null; // the process ended meanwhile
  }
}

/** pid -> parent pid, for every process visible in /proc. */
function parents() {
  const map = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(`/proc/${name}/stat`);
    if (!stat) continue;
    // pid (comm) state ppid ...; comm may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    map.set(Number(name), Number(rest[1]));
  }
  return map;
}

/** The command name of a process (`comm`), or null. */
export function commOf(pid) {
  return readProc(`/proc/${pid}/comm`)?.trim() ?? null;
}

/** Every descendant of `root` (not `root` itself). */
export function descendants(root) {
  const children = new Map();
  for (const [pid, ppid] of parents()) {
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop();
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** RSS in bytes of `root` and each of its descendants: {total, byPid: Map(pid -> bytes)}. */
export function treeRss(root) {
  let total = 0;
  const byPid = new Map();
  for (const pid of [root, ...descendants(root)]) {
    const statm = readProc(`/proc/${pid}/statm`);
    if (!statm) continue;
    const rss = Number(statm.split(' ')[1]) * PAGE;
    byPid.set(pid, rss);
    total += rss;
  }
  return {total, byPid};
}

/** Chromium's role of a process: browser, renderer, gpu-process, utility (its sub-type), ... */
export function roleOf(pid) {
  const cmd = readProc(`/proc/${pid}/cmdline`) ?? '';
  const type = /--type=([^\s\0]+)/.exec(cmd)?.[1] ?? 'browser';
  const sub = /--utility-sub-type=([^\s\0]+)/.exec(cmd)?.[1];
  return sub ? `${type}:${sub.replace(/\.mojom\./, '.')}` : type;
}

/**
 * Samples treeRss(root) every `intervalMs`. stop() returns {base, peak} (bytes, the first
 * sample and the largest) and `growth`: per process, RSS at the peak minus at the start
 * (processes that grew by more than 1 MB, largest first, with their role).
 */
export function startRssSampler(root, intervalMs = 100) {
  const first = treeRss(root);
  let top = first;
  const sample = () => {
    const s = treeRss(root);
    if (s.total > top.total) top = s;
  };
  const timer = setInterval(sample, intervalMs);
  const roles = new Map();
  const roleTimer = setInterval(() => {
    for (const pid of top.byPid.keys()) if (!roles.has(pid)) roles.set(pid, roleOf(pid));
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      clearInterval(roleTimer);
      sample();
      const growth = [...top.byPid]
        .map(([pid, rss]) => ({pid, role: roles.get(pid) ?? roleOf(pid), growth: rss - (first.byPid.get(pid) ?? 0)}))
        .filter((g) => g.growth > 1 << 20)
        .sort((a, b) => b.growth - a.growth);
      return {base: first.total, peak: top.total, growth};
    },
  };
}
