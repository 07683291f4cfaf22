// Test doubles for the browser parts the shim talks to: a ServiceWorkerContainer, a registration
// and a worker that answers the protocol from memory (the Rust worker's rules, simplified).
// (node --test also loads this file as a test file; it defines no tests.)

const err = (code, message, entryId) => ({ severity: 2, category: 9, code, data: { message, ...(entryId ? { entryId } : {}) } });

/** A worker speaking protocol v1 from an in-memory map of entries. */
export class FakeWorker extends EventTarget {
  constructor(scriptURL, container) {
    super();
    this.scriptURL = scriptURL;
    this.state = 'activated';
    this.container = container;
    this.entries = new Map();
    this.requests = [];
    this.activeJobs = 0;
    this.silent = new Set(); // request types never answered
    this.scope = new URL('./', scriptURL).href;
  }

  postMessage(message, transfer) {
    this.requests.push(message);
    const port = transfer?.[0];
    if (!port || this.silent.has(message.type)) return;
    queueMicrotask(() => {
      let reply;
      try {
        reply = { id: message.id, ok: true, result: this.handle(message) };
      } catch (e) {
        reply = { id: message.id, ok: false, error: e };
      }
      port.postMessage(reply);
    });
  }

  summary(e) {
    const c = e.config;
    return {
      id: e.id,
      state: e.state,
      stopReason: e.stopReason ?? null,
      metadata: c.metadata ?? null,
      poster: c.poster ?? null,
      duration: c.duration ?? null,
      expectedSize: e.expectedSize ?? 0,
      size: e.size ?? 0,
      segmentsDone: e.segmentsDone ?? 0,
      segmentsTotal: e.segmentsTotal ?? 0,
      progress: e.progress ?? 0,
      expiration: e.expiration ?? null,
      mode: e.mode ?? 'foreground',
      ...(e.modeReason ? { modeReason: e.modeReason } : {}),
      error: null,
    };
  }

  entry(id) {
    const e = this.entries.get(id);
    if (!e) throw err(9013, `no entry ${id}; call getMediaConfig for it first`, id);
    return e;
  }

  handle(m) {
    if (m.v !== 1) throw err(9002, 'bad version');
    switch (m.type) {
      case 'prepare': {
        const e = this.entries.get(m.entryId) ?? { id: m.entryId, state: 'prepared' };
        e.config = m.config;
        this.entries.set(m.entryId, e);
        return this.summary(e);
      }
      case 'download': {
        const e = this.entry(m.entryId);
        e.state = 'downloading';
        e.options = m.options;
        e.mode = m.options?.background ? 'background' : 'foreground';
        this.activeJobs++;
        return this.summary(e);
      }
      case 'pause': {
        const e = this.entry(m.entryId);
        e.state = 'paused';
        e.stopReason = 'user';
        return this.summary(e);
      }
      case 'resume': {
        const e = this.entry(m.entryId);
        e.state = 'downloading';
        e.stopReason = null;
        return this.summary(e);
      }
      case 'remove': {
        const { sessions } = this.entry(m.entryId);
        this.entries.delete(m.entryId);
        return { entryId: m.entryId, ...(sessions?.length ? { sessions } : {}) };
      }
      case 'pauseAll': {
        const ids = [...this.entries.values()].filter((e) => e.state === 'downloading').map((e) => e.id);
        for (const id of ids) Object.assign(this.entries.get(id), { state: 'paused', stopReason: 'user' });
        return { entryIds: ids };
      }
      case 'removeAll': {
        const ids = [...this.entries.keys()];
        const sessions = [...this.entries.values()].flatMap((e) => e.sessions ?? []);
        this.entries.clear();
        return { entryIds: ids, ...(sessions.length ? { sessions } : {}) };
      }
      case 'get': {
        const e = this.entry(m.entryId);
        const local = `${this.scope}__offline__/${encodeURIComponent(e.id)}`;
        return {
          ...this.summary(e),
          config: e.config,
          localManifestUrl: `${local}/manifest.mpd`,
          storedOnlyManifestUrl: `${local}/manifest.mpd?stored-only`,
          ...(e.protected && !e.sessions?.length ? { localLicenseUrl: `${local}/license` } : {}),
          ...(e.sessions?.length ? { sessions: e.sessions } : {}),
        };
      }
      case 'protection': {
        const e = this.entry(m.entryId);
        e.plannedWith = m.options;
        return { entryId: m.entryId, protection: e.protection ?? [], mediaTypes: e.mediaTypes ?? [] };
      }
      case 'keepSessions': {
        const e = this.entry(m.entryId);
        e.sessions = m.sessions;
        e.protected = true;
        const ends = m.sessions.map((s) => s.expiration).filter((x) => x !== null);
        e.expiration = ends.length ? Math.min(...ends) : null;
        return this.summary(e);
      }
      case 'renew': {
        const e = this.entry(m.entryId);
        if (!e.protected) throw err(9016, `entry ${e.id} is clear content: it has no licence to renew`);
        e.expiration = e.renewTo ?? e.expiration;
        return { entryId: e.id, expiration: e.expiration };
      }
      case 'backgroundPlan': {
        const e = this.entry(m.entryId);
        const id = (n) => `offline-manager:${e.id}:${n}`;
        return { entryId: e.id, fetches: [0, 1].map((n) => ({ id: id(n), urls: [`https://cdn.example/${n}.m4s`], title: e.id })) };
      }
      case 'backgroundStarted': {
        const e = this.entry(m.entryId);
        e.started = m.started;
        if (m.started.length === 0) Object.assign(e, { mode: 'foreground', modeReason: `refused (${m.refused})` });
        return this.summary(e);
      }
      case 'verify': {
        const e = this.entry(m.entryId);
        const ok = e.state === 'completed';
        if (!ok && m.repair) e.state = 'downloading';
        return {
          entryId: e.id,
          records: 4,
          bytes: e.size ?? 0,
          missing: ok ? 0 : 1,
          unreadable: 0,
          manifest: true,
          licenses: true,
          ok,
          state: e.state,
          stopReason: null,
        };
      }
      case 'list':
        return [...this.entries.values()].map((e) => this.summary(e));
      case 'listing': {
        // As the worker: the tag names what the listing holds, and a page holding it gets no entries.
        const entries = [...this.entries.values()].map((e) => this.summary(e));
        const tag = `fake.${JSON.stringify(entries)}`;
        return m.since === tag ? { tag, entries: null } : { tag, entries };
      }
      case 'ping':
        return { activeJobs: this.activeJobs };
      default:
        throw err(9002, `unknown type ${m.type}`);
    }
  }

  /** Sends a broadcast event to the page, as the worker does to every window client. */
  broadcast(type, detail) {
    this.container.dispatchEvent(new MessageEvent('message', { data: { kind: 'event', type, detail } }));
  }
}

export class FakeRegistration extends EventTarget {
  constructor(scope, worker) {
    super();
    this.scope = scope;
    this.active = worker;
    this.waiting = null;
    this.installing = null;
  }
}

/** `registration.backgroundFetch` as Chromium's: records each fetch, or refuses with `refuse`. */
export class FakeBackgroundFetch {
  constructor(refuse) {
    this.refuse = refuse;
    this.fetches = [];
  }

  async fetch(id, urls, options) {
    if (this.refuse) throw this.refuse;
    this.fetches.push({ id, urls, options });
    return { id };
  }
}

/** A ServiceWorkerContainer that registers a FakeWorker; `claim` makes it control the page. */
export class FakeContainer extends EventTarget {
  constructor({ claim = true } = {}) {
    super();
    this.controller = null;
    this.registrations = new Map();
    this.registerCalls = [];
    this.claim = claim;
    this.started = false;
  }

  async getRegistration(scope) {
    return this.registrations.get(scope);
  }

  async register(scriptURL, options) {
    this.registerCalls.push({ scriptURL, options });
    const scope = options?.scope ?? new URL('./', scriptURL).href;
    const worker = new FakeWorker(scriptURL, this);
    const reg = new FakeRegistration(scope, worker);
    this.registrations.set(scope, reg);
    this.worker = worker;
    if (this.claim) {
      this.controller = worker;
      this.dispatchEvent(new Event('controllerchange'));
    }
    return reg;
  }

  startMessages() {
    this.started = true;
  }
}

/** Collects events of an OfflineManager. */
export function record(om, types = ['progress', 'statechange', 'error']) {
  const seen = [];
  for (const type of types) om.addEventListener(type, (e) => seen.push(e));
  return seen;
}
