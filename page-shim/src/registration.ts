// Registering the offline service worker (only when it is not registered yet) and waiting until it
// is active (enough to talk to it) or until it controls the page (needed to play stored media:
// only a controlled page's fetches reach the worker).

import { createError, describe, ErrorCode, Severity } from './errors.js';
import { timerDelay } from './timeout.js';

export interface RegistrationOptions {
  container: ServiceWorkerContainer;
  /** Absolute URL of the worker script. */
  scriptUrl: string;
  /** Absolute scope URL, ending in `/`. */
  scope: string;
  timeoutMs: number;
}

/** How long a page waits for `clients.claim()` once the worker is activated. */
export const CLAIM_GRACE_MS = 2000;

function workers(reg: ServiceWorkerRegistration): ServiceWorker[] {
  return [reg.active, reg.waiting, reg.installing].filter((w): w is ServiceWorker => w != null);
}

/** Returns the registration for `scope` running `scriptUrl`, registering it when needed. */
export async function ensureRegistration(o: RegistrationOptions): Promise<ServiceWorkerRegistration> {
  let reg: ServiceWorkerRegistration | undefined;
  try {
    reg = await o.container.getRegistration(o.scope);
  } catch {
    reg = undefined;
  }
  const usable = reg !== undefined && reg.scope === o.scope && workers(reg).some((w) => w.scriptURL === o.scriptUrl);
  if (!usable) {
    try {
      reg = await o.container.register(o.scriptUrl, { scope: o.scope, updateViaCache: 'none' });
    } catch (e) {
      throw createError(
        ErrorCode.STORAGE_NOT_SUPPORTED,
        `could not register the offline service worker ${o.scriptUrl} with scope ${o.scope} (${describe(e)}); serve the worker script at that URL with a JavaScript MIME type or pass serviceWorkerUrl, and note that a scope above the script's directory needs the Service-Worker-Allowed header`,
        { scriptUrl: o.scriptUrl, scope: o.scope, cause: e },
      );
    }
  }
  await waitForActive(reg as ServiceWorkerRegistration, o.timeoutMs);
  return reg as ServiceWorkerRegistration;
}

/** Resolves with the registration's active worker once there is one. */
export function waitForActive(reg: ServiceWorkerRegistration, timeoutMs: number): Promise<ServiceWorker> {
  if (reg.active) return Promise.resolve(reg.active);
  return new Promise<ServiceWorker>((resolve, reject) => {
    const watched: ServiceWorker[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error: unknown, worker?: ServiceWorker): void => {
      if (timer !== undefined) clearTimeout(timer);
      reg.removeEventListener('updatefound', check);
      for (const w of watched) w.removeEventListener('statechange', check);
      if (worker) resolve(worker);
      else reject(error);
    };
    function check(): void {
      if (reg.active) {
        finish(null, reg.active);
        return;
      }
      const pending = reg.installing ?? reg.waiting;
      if (!pending) {
        finish(
          createError(
            ErrorCode.STORAGE_NOT_SUPPORTED,
            "the offline service worker failed to install; open the browser's service worker console (chrome://serviceworker-internals in Chromium) for the reason, fix it and reload the page",
            { scope: reg.scope },
          ),
        );
        return;
      }
      if (!watched.includes(pending)) {
        watched.push(pending);
        pending.addEventListener('statechange', check);
      }
    }
    reg.addEventListener('updatefound', check);
    const delay = timerDelay(timeoutMs);
    if (delay !== undefined) {
      timer = setTimeout(() => {
        finish(
          createError(
            ErrorCode.OPERATION_ABORTED,
            `the offline service worker did not activate within ${timeoutMs} ms; reload the page (a slow network may delay its installation)`,
            { scope: reg.scope, timeoutMs },
            Severity.RECOVERABLE,
          ),
        );
      }, delay);
    }
    check();
  });
}

/** Whether the page is controlled by this registration's worker. */
export function isControlledBy(container: ServiceWorkerContainer, reg: ServiceWorkerRegistration): boolean {
  const controller = container.controller;
  return controller != null && workers(reg).some((w) => w.scriptURL === controller.scriptURL);
}

/**
 * Resolves once the registration's worker controls the page. The worker claims pages when it
 * activates; a page loaded with a hard reload (Shift+Reload) is never controlled, so after
 * activation this waits only {@link CLAIM_GRACE_MS}.
 */
export async function waitForControl(
  container: ServiceWorkerContainer,
  reg: ServiceWorkerRegistration,
  timeoutMs: number,
  page: string | undefined,
): Promise<void> {
  if (isControlledBy(container, reg)) return;
  if (page !== undefined && !page.startsWith(reg.scope)) {
    throw createError(
      ErrorCode.STORAGE_NOT_SUPPORTED,
      `this page (${page}) lies outside the offline service worker's scope (${reg.scope}), so the worker cannot serve stored media to it; serve the worker script from this page's directory or above (or pass scope), and load the page under that scope`,
      { page, scope: reg.scope },
    );
  }
  const active = await waitForActive(reg, timeoutMs);
  await new Promise<void>((resolve, reject) => {
    let grace: ReturnType<typeof setTimeout> | undefined;
    let limit: ReturnType<typeof setTimeout> | undefined;
    const finish = (error?: unknown): void => {
      if (grace !== undefined) clearTimeout(grace);
      if (limit !== undefined) clearTimeout(limit);
      container.removeEventListener('controllerchange', onChange);
      active.removeEventListener('statechange', onState);
      if (error === undefined) resolve();
      else reject(error);
    };
    const fail = (): void =>
      finish(
        createError(
          ErrorCode.OPERATION_ABORTED,
          'the offline service worker does not control this page, so it cannot serve stored media to it; reload the page normally (a hard reload, Shift+Reload, bypasses service workers)',
          { scope: reg.scope },
          Severity.RECOVERABLE,
        ),
      );
    function onChange(): void {
      if (isControlledBy(container, reg)) finish();
    }
    function onState(): void {
      if (active.state === 'activated' && grace === undefined) grace = setTimeout(fail, CLAIM_GRACE_MS);
    }
    container.addEventListener('controllerchange', onChange);
    active.addEventListener('statechange', onState);
    const delay = timerDelay(timeoutMs);
    if (delay !== undefined) limit = setTimeout(fail, delay);
    onState();
    onChange();
  });
}
