// A tiny event target. Listeners receive a Kaltura FakeEvent-like object `{type, payload: {detail}}`
// (the original API reads `e.payload.detail.progress`). A throwing listener does not stop the
// others; its exception is reported like an uncaught one.

/** What listeners receive. */
export interface OfflineEvent<T extends string = string, D = unknown> {
  type: T;
  payload: { detail: D };
}

/** A function, or an object with `handleEvent`, as for DOM events. */
export type Listener<E> = ((event: E) => void) | { handleEvent(event: E): void };

function report(error: unknown): void {
  const g = globalThis as { reportError?: (e: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(error);
  else
    setTimeout(() => {
      throw error;
    });
}

/** Typed emitter: `M` maps each event type to its detail type. */
export class Emitter<M extends object> {
  private readonly listeners = new Map<string, Set<Listener<OfflineEvent<string, unknown>>>>();

  add<K extends keyof M & string>(type: K, listener: Listener<OfflineEvent<K, M[K]>>): void {
    if (typeof listener !== 'function' && typeof (listener as { handleEvent?: unknown })?.handleEvent !== 'function') return;
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener as Listener<OfflineEvent<string, unknown>>);
  }

  remove<K extends keyof M & string>(type: K, listener: Listener<OfflineEvent<K, M[K]>>): void {
    this.listeners.get(type)?.delete(listener as Listener<OfflineEvent<string, unknown>>);
  }

  /** Calls every listener of `type` (those added at the time of the call) with `{type, payload: {detail}}`. */
  emit<K extends keyof M & string>(type: K, detail: M[K]): void {
    const set = this.listeners.get(type);
    if (!set || set.size === 0) return;
    const event: OfflineEvent<K, M[K]> = { type, payload: { detail } };
    for (const listener of [...set]) {
      try {
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      } catch (e) {
        report(e);
      }
    }
  }

  /** The number of listeners of `type`. */
  count(type: keyof M & string): number {
    return this.listeners.get(type)?.size ?? 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}
