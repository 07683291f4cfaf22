// Background mode, the page's part: browsers let only pages call `backgroundFetch.fetch()`
// (Chromium throws NotAllowedError in service workers), so after a `download` or `resume` that
// the worker answers in background mode the page asks it what to fetch, hands that to the
// browser, and says which fetches the browser took. From then on the browser downloads with
// every page closed and the worker stores what it delivers.

import type { CommandFields, CommandResult, CommandType, EntrySummary } from './protocol.js';

/** What the shim uses of `registration.backgroundFetch` (Background Fetch is in no TypeScript lib). */
interface BackgroundFetchManagerLike {
  fetch(id: string, requests: string[], options?: { title?: string }): Promise<unknown>;
}

type Send = <K extends CommandType>(type: K, fields: CommandFields<K>) => Promise<CommandResult<K>>;

/** The registration's Background Fetch, where the browser has it (feature detection, not the user agent). */
export function backgroundFetchOf(registration: ServiceWorkerRegistration): BackgroundFetchManagerLike | undefined {
  const manager = (registration as { backgroundFetch?: unknown }).backgroundFetch;
  return typeof manager === 'object' && manager !== null && typeof (manager as BackgroundFetchManagerLike).fetch === 'function'
    ? (manager as BackgroundFetchManagerLike)
    : undefined;
}

/**
 * Hands an entry the worker put in background mode to the browser; resolves with the entry's
 * summary after the hand-over (mode `foreground`, with its reason, when the browser refused).
 */
export async function handOver(registration: ServiceWorkerRegistration, summary: EntrySummary, send: Send): Promise<EntrySummary> {
  if (summary.mode !== 'background' || summary.state !== 'downloading') return summary;
  const entryId = summary.id;
  const plan = await send('backgroundPlan', { entryId });
  if (plan.fetches.length === 0) return summary;
  const manager = backgroundFetchOf(registration);
  const started: string[] = [];
  let refused: string | undefined = manager ? undefined : 'registration.backgroundFetch is missing in this page';
  for (const f of manager ? plan.fetches : []) {
    try {
      await manager?.fetch(f.id, f.urls, { title: f.title });
      started.push(f.id);
    } catch (e) {
      refused = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      break;
    }
  }
  return send('backgroundStarted', { entryId, started, ...(refused === undefined ? {} : { refused }) });
}
