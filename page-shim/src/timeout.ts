// Bounding promises in time: the worker may be stopped mid-request and the Kaltura provider hangs
// instead of failing on some server errors.

import type { KalturaError } from './errors.js';

/** The longest delay timers honour (2^31 - 1 ms); longer ones fire at once. */
export const MAX_DELAY_MS = 2147483647;

/** A usable timer delay, or undefined for "no limit" (0, negative, NaN, Infinity, > MAX_DELAY_MS). */
export function timerDelay(ms: number): number | undefined {
  return ms > 0 && ms <= MAX_DELAY_MS ? ms : undefined;
}

/**
 * Settles like `promise`, or rejects with `onTimeout()` after `ms` milliseconds (no limit when
 * {@link timerDelay} gives none). The timer is always cleared.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => KalturaError): Promise<T> {
  const delay = timerDelay(ms);
  if (delay === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), delay);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
