// The OfflineManager: Kaltura's offline API for pages, relayed to the offline service worker.
// Every method returns a promise; on failure it rejects with a KalturaError and dispatches the same
// error as an 'error' event.

import { sendRequest, SHIM_VERSION, type PostTarget } from './channel.js';
import { createError, describe, ErrorCode, Severity, toKalturaError } from './errors.js';
import { drmTarget, localDrmData } from './drm.js';
import { releaseSessions, renewedSessions, sessionsForDownload } from './persistent-sessions.js';
import { Emitter, type Listener, type OfflineEvent } from './events.js';
import { KeepAlive } from './keep-alive.js';
import {
  isWorkerEvent,
  type CommandFields,
  type CommandResult,
  type CommandType,
  type DashSource,
  type DownloadMode,
  type DownloadOptions,
  type EntryState,
  type EntrySummary,
  type JsonObject,
  type MediaConfig,
  type MediaSources,
  type OfflineEventMap,
  type OfflineEventType,
  type PersistentSession,
  type PlanOptions,
  type ProtectionInfo,
  type StopReason,
  type Verified,
} from './protocol.js';
import { requestPersistentStorage, storagePersisted } from './storage.js';
import { handOver } from './background.js';
import { checkDownloadOptions, checkEntryId, dashOf, jsonCopy, noDash } from './arguments.js';
import { mediaSource, playableTypes } from './playable.js';
import { getProviderMediaConfig, type EntryMediaInfo, type ProviderConfig } from './provider.js';
import { ensureRegistration, isControlledBy, waitForControl } from './registration.js';
import { deriveEntryId, directoryOf, pageBaseUrl, pageUrl, resolveUrl } from './url.js';

export interface OfflineManagerConfig {
  /** Kaltura provider config (as for `KalturaPlayer.setup`); needed for `getMediaConfig({entryId})`. */
  provider?: ProviderConfig;
  /**
   * The worker script; default `'./offline-manager-sw.js'` resolved against the shim script's own
   * URL (the files of `dist/` are served side by side), or `document.baseURI` when unknown.
   */
  serviceWorkerUrl?: string;
  /** The worker scope; default the directory of the worker script. Pages playing stored media must lie under it. */
  scope?: string;
  /** How long to wait for each worker reply (and for the worker to activate); default 30000 ms. */
  requestTimeoutMs?: number;
  /** How long to wait for the Kaltura provider; default 20000 ms. */
  providerTimeoutMs?: number;
  /** Keep-alive ping interval while downloads run (Chromium stops idle workers after 30 s); default 10000 ms, 0 disables. */
  keepAliveMs?: number;
  /** The service worker container to use; default `navigator.serviceWorker` (for tests and embedding). */
  serviceWorkerContainer?: ServiceWorkerContainer;
  /**
   * Download with the browser's Background Fetch where it has one (Chromium), so downloads
   * finish with every page closed; the default of `download`'s `background` option (false).
   */
  background?: boolean;
}

/** A plain media config, for apps without Kaltura: `{entryId?, sources: {dash: [{url}]}, ...}`. */
export interface PlainMediaInfo extends Partial<Omit<MediaConfig, 'sources'>> {
  /** Entry id; default `id`, else derived from the DASH URL (see `deriveEntryId`). */
  entryId?: string;
  sources: MediaSources;
}

/** What `getMediaConfig` takes: a Kaltura entry (`{entryId, ks?}`) or a plain media config. */
export type MediaInfo = EntryMediaInfo | PlainMediaInfo;

/** The DASH source of a stored entry: the local manifest served by the worker. */
export interface LocalDashSource extends DashSource {
  id: string;
  url: string;
  mimetype: 'application/dash+xml';
  isLocal: true;
  localSource: true;
}

/** The stored config, ready for `player.setMedia`, with the entry's storage state. */
/** How `getDownloadedMediaConfig` plays an entry that is not completed. */
export interface PlaybackOptions {
  /**
   * Only what is stored: the manifest is cut to each track's segments stored from the start
   * (the title ends there), and nothing comes from the network. Default false: the whole title,
   * what is missing fetched (and stored) as the player asks for it.
   */
  storedOnly?: boolean;
}

export interface DownloadedMediaConfig extends MediaConfig {
  id: string;
  sources: MediaSources & { dash: [LocalDashSource]; hls: []; progressive: [] };
  /**
   * `completed`, or `downloading`/`paused`/`failed`: then it plays too, stored segments from
   * IndexedDB and the others from the network (stored as they come); offline, what is not
   * stored fails as a network error does.
   */
  state: EntryState;
  /** 0..100 when the config was made. */
  progress: number;
  /** Bytes stored. */
  size: number;
  expectedSize: number;
  expiration: number | null;
  /**
   * Encrypted entries: where the worker answers ClearKey licence requests offline. Give it to
   * the player's drm config: shaka `drm.servers['org.w3.clearkey']`, Kaltura Player
   * `playback.options.html5.dash.drm.servers['org.w3.clearkey']`.
   */
  localLicenseUrl?: string;
  /**
   * Widevine/PlayReady entries: the persistent-license sessions the CDM keeps. Give them to the
   * player so that it loads them instead of asking a licence server: shaka (and the Kaltura
   * Player's `playback.options.html5.dash`) `drm.persistentSessionsMetadata` =
   * `persistentSessions.map((s) => ({sessionId: s.sessionId, initDataType: s.initDataType, initData: base64ToBytes(s.initData)}))`.
   */
  persistentSessions?: PersistentSession[];
}

/** One item of `getAllDownloads()`. */
export interface DownloadItem {
  id: string;
  metadata: JsonObject | null;
  poster: string | null;
  expectedSize: number;
  size: number;
  expiration: number | null;
  duration: number | null;
  state: EntryState;
  progress: number;
  stopReason: StopReason | null;
  /** Who downloads it: `background` (the browser's Background Fetch, with every page closed too) or `foreground` (the worker, while a page is open). */
  mode: DownloadMode;
  /** Why a download asked for in the background runs in the foreground. */
  modeReason?: string;
  /**
   * Whether the browser keeps this site's storage under pressure (`navigator.storage.persisted()`,
   * the same for every item). When false it may evict every download at once: ask the user, then
   * call `navigator.storage.persist()`.
   */
  persisted: boolean;
}

/** The event object listeners receive: `{type, payload: {detail}}`. */
export type OfflineManagerEvent<K extends OfflineEventType = OfflineEventType> = OfflineEvent<K, OfflineEventMap[K]>;
export type OfflineManagerListener<K extends OfflineEventType = OfflineEventType> = Listener<OfflineManagerEvent<K>>;

let shimBaseUrl: string | undefined;

/** Records where the shim script was loaded from, so the default worker URL sits beside it. */
export function setShimBaseUrl(url: string | undefined): void {
  shimBaseUrl = url;
}

export const DEFAULTS = {
  serviceWorkerUrl: './offline-manager-sw.js',
  requestTimeoutMs: 30000,
  providerTimeoutMs: 20000,
  keepAliveMs: 10000,
} as const;

export class OfflineManager {
  /** The npm package version of this page shim (the worker reports its own as `workerVersion` in every reply). */
  static readonly version: string = SHIM_VERSION;
  /** The category-9 error codes by name, for pages that load the plain script (no module imports). */
  static readonly ErrorCode = ErrorCode;
  private readonly events = new Emitter<OfflineEventMap>();
  private readonly keepAlive: KeepAlive;
  private readonly container: ServiceWorkerContainer | undefined;
  private readonly provider: ProviderConfig | undefined;
  private readonly serviceWorkerUrl: string;
  private readonly scope: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly providerTimeoutMs: number;
  private registration: Promise<ServiceWorkerRegistration> | undefined;
  /**
   * The worker's last listing, as the page shows it, with its tag: while nothing changed the
   * worker answers without entries.
   */
  private listed: { tag: string | null | undefined; items: Omit<DownloadItem, 'persisted'>[] } | undefined;
  private readonly background: boolean;
  private destroyed = false;

  constructor(config: OfflineManagerConfig = {}) {
    const c = config ?? {};
    this.provider = c.provider;
    this.background = c.background === true;
    this.serviceWorkerUrl = c.serviceWorkerUrl ?? DEFAULTS.serviceWorkerUrl;
    this.scope = c.scope;
    this.requestTimeoutMs = c.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.providerTimeoutMs = c.providerTimeoutMs ?? DEFAULTS.providerTimeoutMs;
    this.keepAlive = new KeepAlive(() => this.send('ping', {}), c.keepAliveMs ?? DEFAULTS.keepAliveMs);
    const nav = (globalThis as { navigator?: { serviceWorker?: ServiceWorkerContainer } }).navigator;
    this.container = c.serviceWorkerContainer ?? nav?.serviceWorker ?? undefined;
    if (this.container) {
      this.container.addEventListener('message', this.onMessage);
      this.container.startMessages?.();
      // Register early: the worker installs, claims the page and resumes unfinished downloads
      // while the app gets ready. A failure is reported by the first call that needs the worker.
      this.ready().catch(() => undefined);
    }
    (globalThis as { addEventListener?: (t: string, l: () => void) => void }).addEventListener?.('online', this.onOnline);
  }

  /** The network came back: wake the worker, which resumes downloads paused for the network. */
  private readonly onOnline = (): void => {
    if (this.destroyed || !this.container) return;
    this.send('ping', {}).then(
      (r) => {
        if (r.activeJobs > 0) this.keepAlive.start();
      },
      () => undefined,
    );
  };

  /**
   * Gets a media config and keeps it in the worker as a prepared entry.
   * `{entryId, ks?}` asks the Kaltura provider (the Kaltura Player script must be loaded and
   * `provider` configured); a config with `sources` is used as is. Resolves with the (JSON) config.
   */
  getMediaConfig(mediaInfo: MediaInfo): Promise<MediaConfig> {
    return this.run(async () => {
      if (typeof mediaInfo !== 'object' || mediaInfo === null) {
        throw createError(ErrorCode.CANNOT_ADD_ITEM, 'getMediaConfig needs {entryId} (with a provider configured) or a media config with sources.dash[0].url');
      }
      let entryId: string;
      let config: MediaConfig;
      if (typeof (mediaInfo as PlainMediaInfo).sources === 'object' && (mediaInfo as PlainMediaInfo).sources !== null) {
        const plain = mediaInfo as PlainMediaInfo;
        const given = plain.entryId ?? plain.id;
        const label = given !== undefined ? String(given) : 'without id';
        config = jsonCopy(plain, label) as MediaConfig;
        delete (config as { entryId?: unknown }).entryId;
        const dash = dashOf(config);
        if (dash.length === 0) throw noDash(config, label);
        const base = pageBaseUrl();
        for (const source of dash) {
          try {
            source.url = resolveUrl(source.url, base);
          } catch (e) {
            throw createError(
              ErrorCode.CANNOT_ADD_ITEM,
              `the DASH URL ${source.url} of entry ${label} is not a valid URL (${String(e)}); pass an absolute http(s) URL`,
              { entryId: given, cause: e },
            );
          }
        }
        entryId = given !== undefined ? checkEntryId(given, 'getMediaConfig', ErrorCode.CANNOT_ADD_ITEM) : deriveEntryId(dash[0].url);
        if (config.id === undefined) config.id = entryId;
      } else {
        const info = mediaInfo as EntryMediaInfo;
        entryId = checkEntryId(info.entryId, 'getMediaConfig', ErrorCode.CANNOT_ADD_ITEM);
        const fromProvider = await getProviderMediaConfig(this.provider, { ...info, entryId }, this.providerTimeoutMs);
        config = jsonCopy(fromProvider, entryId);
        if (dashOf(config).length === 0) throw noDash(config, entryId);
      }
      await this.send('prepare', { entryId, config });
      return config;
    });
  }

  /**
   * Plans and starts the download of a prepared entry (prepared in this page or an earlier one).
   * Resolves with the entry's summary once the download has started, not when it completes:
   * watch 'progress' and 'statechange' events.
   */
  download(entryId: string, options?: DownloadOptions): Promise<EntrySummary> {
    return this.run(async () => {
      const id = checkEntryId(entryId, 'download');
      const checked = checkDownloadOptions(options, id);
      if (checked.background === undefined && this.background) checked.background = true;
      const stored = await this.send('get', { entryId: id });
      const target = await drmTarget(stored.config, id);
      let plan: PlanOptions = checked;
      let protection: ProtectionInfo[] | undefined;
      if (stored.state !== 'completed' && mediaSource()) {
        // Only the page can ask MSE what it plays: probe the manifest's types so the worker
        // stores nothing a player here could not start.
        const first = await this.send('protection', { entryId: id, options: checked });
        const playable = playableTypes(first.mediaTypes);
        if (playable) plan = { ...checked, playable };
        // Every type plays: the selection, and so its protection, stays the same.
        if (!playable || playable.length === first.mediaTypes.length) protection = first.protection;
      }
      if (target && !stored.sessions?.length) {
        // Widevine/PlayReady: the CDM keeps the licence; sessions are made before any segment.
        protection ??= (await this.send('protection', { entryId: id, options: plan })).protection;
        await this.keepSessions(id, await sessionsForDownload(target, protection, id, this.requestTimeoutMs));
      }
      const summary = await handOver(await this.ready(), await this.send('download', { entryId: id, options: plan }), this.sender);
      if (summary.state === 'downloading') this.keepAlive.start();
      requestPersistentStorage();
      return summary;
    });
  }

  /** Pauses a download; resolves with the entry's summary (state 'paused', stopReason 'user'). */
  pause(entryId: string): Promise<EntrySummary> {
    return this.run(async () => this.send('pause', { entryId: checkEntryId(entryId, 'pause') }));
  }

  /** Resumes a paused or failed download; resolves with the entry's summary. */
  resume(entryId: string): Promise<EntrySummary> {
    return this.run(async () => {
      const resumed = await this.send('resume', { entryId: checkEntryId(entryId, 'resume') });
      const summary = await handOver(await this.ready(), resumed, this.sender);
      if (summary.state === 'downloading') this.keepAlive.start();
      return summary;
    });
  }

  /** Deletes an entry and everything stored for it; resolves with `{entryId}`. */
  remove(entryId: string): Promise<{ entryId: string }> {
    return this.run(async () => {
      const { entryId: id, sessions } = await this.send('remove', { entryId: checkEntryId(entryId, 'remove') });
      await releaseSessions(sessions);
      return { entryId: id };
    });
  }

  /** Pauses every running download; resolves with `{entryIds}` of those paused. */
  pauseAll(): Promise<{ entryIds: string[] }> {
    return this.run(async () => this.send('pauseAll', {}));
  }

  /** Deletes every entry; resolves with `{entryIds}` of those removed. */
  removeAll(): Promise<{ entryIds: string[] }> {
    return this.run(async () => {
      const { entryIds, sessions } = await this.send('removeAll', {});
      await releaseSessions(sessions);
      return { entryIds };
    });
  }

  /**
   * The stored config of an entry with its DASH source pointing at the local manifest (`isLocal`
   * and `localSource` set), for `player.setMedia`: for a completed entry, and for one still
   * downloading or paused, whose segments not stored yet come from the network (stored as they
   * come). With `{storedOnly: true}` the manifest lists only what is stored, so nothing is
   * fetched. Rejects 9013 for an unknown entry, 9003 before its download started.
   */
  getDownloadedMediaConfig(entryId: string, options: PlaybackOptions = {}): Promise<DownloadedMediaConfig> {
    return this.run(async () => {
      const id = checkEntryId(entryId, 'getDownloadedMediaConfig');
      const detail = await this.send('get', { entryId: id });
      // Playable once the download has a plan (its local manifest is stored then): segments
      // not stored yet come from the network through the worker, and are stored once.
      if (detail.state === 'prepared' || (detail.state !== 'completed' && detail.segmentsTotal === 0)) {
        throw createError(
          ErrorCode.REQUESTED_ITEM_NOT_FOUND,
          `entry ${id} has not started downloading (state ${detail.state}); call download('${id}') first, then play it at once or after its 'statechange' event with state 'completed'`,
          { entryId: id, state: detail.state, progress: detail.progress, stopReason: detail.stopReason },
          Severity.RECOVERABLE,
        );
      }
      const reg = await this.ready();
      if (this.container) await waitForControl(this.container, reg, this.requestTimeoutMs, pageUrl());
      const config: MediaConfig = typeof detail.config === 'object' && detail.config !== null ? detail.config : { sources: {} };
      const original = dashOf(config)[0];
      const local: LocalDashSource = {
        id: `${original?.id ?? id}_local`,
        url: options.storedOnly === true ? detail.storedOnlyManifestUrl : detail.localManifestUrl,
        mimetype: 'application/dash+xml',
        isLocal: true,
        localSource: true,
      };
      if (detail.expiration !== null && detail.expiration <= Date.now()) {
        throw createError(
          ErrorCode.RENEW_LICENSE_FAILED,
          `the licence of entry ${id} expired at ${new Date(detail.expiration).toISOString()}; call renewLicense('${id}') while online, then play it`,
          { entryId: id, expiration: detail.expiration, reason: 'expired' },
        );
      }
      const drmData = localDrmData(original?.drmData, detail.localLicenseUrl);
      if (drmData !== undefined) local.drmData = drmData;
      return {
        ...config,
        id: config.id ?? id,
        // Kaltura providers keep id, poster, metadata and duration inside `sources`: keep them,
        // with the poster the worker stored (detail.poster is then a local URL).
        sources: { ...config.sources, dash: [local], hls: [], progressive: [], ...(detail.poster ? { poster: detail.poster } : {}) },
        duration: config.duration ?? detail.duration ?? undefined,
        metadata: config.metadata ?? detail.metadata ?? undefined,
        poster: detail.poster ?? config.poster ?? undefined,
        state: detail.state,
        progress: detail.progress,
        size: detail.size,
        expectedSize: detail.expectedSize,
        expiration: detail.expiration,
        ...(detail.localLicenseUrl !== undefined ? { localLicenseUrl: detail.localLicenseUrl } : {}),
        ...(detail.sessions?.length ? { persistentSessions: detail.sessions } : {}),
      };
    });
  }

  /** Every stored or prepared entry. */
  getAllDownloads(): Promise<DownloadItem[]> {
    return this.run(async () => {
      const held = this.listed;
      const [answer, persisted] = await Promise.all([this.send('listing', { since: held?.tag ?? undefined }), storagePersisted()]);
      // No entries: the worker matched the tag sent, so what the page holds still holds.
      let items = held?.items ?? [];
      if (answer.entries) {
        items = answer.entries.map(({ segmentsDone: _done, segmentsTotal: _total, error: _error, ...item }) => item);
        this.listed = { tag: answer.tag, items };
      }
      // Each caller gets its own copy of what the page holds: one structured clone for every
      // item's metadata (a clone per item costs microseconds each even for null: the scale
      // bench's 200 titles took 2.4 ms a call with it, 1.2 ms without), and flat copies.
      const metadata = structuredClone(items.map((item) => item.metadata));
      return items.map((item, i) => ({ ...item, metadata: metadata[i] as JsonObject | null, persisted }));
    });
  }

  /**
   * Reads every stored record of an entry back (every byte, its size against what was stored)
   * and checks its manifest and licences. What cannot be read is deleted; a completed entry
   * missing anything becomes `failed` with stopReason `evicted` (resume downloads what is
   * missing). With `{repair: true}` the download of what is missing starts at once.
   */
  verify(entryId: string, options: { repair?: boolean } = {}): Promise<Verified> {
    return this.run(async () => this.send('verify', { entryId: checkEntryId(entryId, 'verify'), ...(options.repair === true ? { repair: true } : {}) }));
  }

  /** The licence expiry of an entry in ms since the epoch; null for clear content. */
  getExpiration(entryId: string): Promise<number | null> {
    return this.run(async () => (await this.send('get', { entryId: checkEntryId(entryId, 'getExpiration') })).expiration);
  }

  /**
   * Renews an encrypted entry's licence and resolves with the new expiry (ms since the epoch, or
   * null when the licence server gives none). With a provider configured, a fresh media config
   * (new ks, licence URL) is asked for first. Segments are not touched. Rejects 9016 for clear
   * content or when the licence server fails (the old licence is kept).
   */
  renewLicense(entryId: string): Promise<number | null> {
    return this.run(async () => {
      const id = checkEntryId(entryId, 'renewLicense');
      let config: MediaConfig | undefined;
      const stored = await this.send('get', { entryId: id });
      if (this.provider) {
        if (stored.localLicenseUrl !== undefined || stored.sessions?.length) {
          // encrypted: clear content is refused by the worker
          try {
            config = jsonCopy(await getProviderMediaConfig(this.provider, { entryId: id }, this.providerTimeoutMs), id);
          } catch (e) {
            throw createError(
              ErrorCode.RENEW_LICENSE_FAILED,
              `could not get a fresh media config for entry ${id} from the provider (${describe(e)}); try again while online`,
              { entryId: id, cause: e },
            );
          }
        }
      }
      if (stored.sessions?.length) return this.renewSessions(id, config ?? stored.config, stored.sessions);
      const result = await this.send('renew', config ? { entryId: id, config } : { entryId: id });
      return result.expiration;
    });
  }

  /** Hands new sessions to the worker; if it cannot keep them they are released (nothing else would). */
  private async keepSessions(id: string, sessions: PersistentSession[]): Promise<EntrySummary> {
    try {
      return await this.send('keepSessions', { entryId: id, sessions });
    } catch (e) {
      await releaseSessions(sessions);
      throw e;
    }
  }

  /** Renews a Widevine/PlayReady entry: new sessions first, then the old ones released. */
  private async renewSessions(id: string, config: MediaConfig, old: PersistentSession[]): Promise<number | null> {
    let target: Awaited<ReturnType<typeof drmTarget>>;
    try {
      target = await drmTarget(config, id, old[0]?.keySystem); // the init data is that system's
    } catch (e) {
      throw createError(ErrorCode.RENEW_LICENSE_FAILED, `cannot renew the licence of entry ${id}: ${describe(e)}`, { entryId: id, cause: e });
    }
    if (!target)
      throw createError(
        ErrorCode.RENEW_LICENSE_FAILED,
        `the media config of entry ${id} names no Widevine or PlayReady licence URL (drmData); cannot renew its sessions`,
        { entryId: id },
      );
    const summary = await this.keepSessions(id, await renewedSessions(target, old, id, this.requestTimeoutMs));
    await releaseSessions(old);
    return summary.expiration;
  }

  /** Listens to 'progress', 'statechange' or 'error'; the listener gets `{type, payload: {detail}}`. */
  addEventListener<K extends OfflineEventType>(type: K, listener: OfflineManagerListener<K>): void {
    if (!this.destroyed) this.events.add(type, listener);
  }

  removeEventListener<K extends OfflineEventType>(type: K, listener: OfflineManagerListener<K>): void {
    this.events.remove(type, listener);
  }

  /** Stops keep-alive and event delivery and removes every listener; later calls reject with 9002. Downloads continue in the worker. */
  destroy(): void {
    this.destroyed = true;
    this.keepAlive.stop();
    this.events.clear();
    this.container?.removeEventListener('message', this.onMessage);
    (globalThis as { removeEventListener?: (t: string, l: () => void) => void }).removeEventListener?.('online', this.onOnline);
  }

  private readonly onMessage = (event: Event): void => {
    if (this.destroyed) return;
    const data: unknown = (event as MessageEvent).data;
    if (!isWorkerEvent(data)) return;
    switch (data.type) {
      case 'progress':
        this.keepAlive.start();
        this.events.emit('progress', data.detail);
        break;
      case 'statechange':
        if (data.detail.state === 'downloading') this.keepAlive.start();
        this.events.emit('statechange', data.detail);
        break;
      case 'error':
        this.events.emit('error', data.detail);
        break;
    }
  };

  private run<T>(op: () => Promise<T>): Promise<T> {
    const attempt = this.destroyed
      ? Promise.reject(createError(ErrorCode.OPERATION_ABORTED, 'this OfflineManager was destroyed; create a new one'))
      : Promise.resolve().then(op);
    return attempt.catch((e: unknown) => {
      const error = toKalturaError(e);
      if (!this.destroyed) this.events.emit('error', error);
      throw error;
    });
  }

  private ready(): Promise<ServiceWorkerRegistration> {
    if (!this.registration) {
      const pending = this.register();
      this.registration = pending;
      pending.catch(() => {
        if (this.registration === pending) this.registration = undefined; // the next call tries again
      });
    }
    return this.registration;
  }

  private async register(): Promise<ServiceWorkerRegistration> {
    const container = this.container;
    if (!container) {
      throw createError(
        ErrorCode.STORAGE_NOT_SUPPORTED,
        'offline storage needs service workers, and this page has none (navigator.serviceWorker is missing); serve the page over HTTPS (or http://localhost), outside private browsing, in a browser that supports service workers',
      );
    }
    const base = this.serviceWorkerUrl === DEFAULTS.serviceWorkerUrl ? (shimBaseUrl ?? pageBaseUrl()) : pageBaseUrl();
    let scriptUrl: string;
    let scope: string;
    try {
      scriptUrl = resolveUrl(this.serviceWorkerUrl, base);
      scope = this.scope !== undefined ? resolveUrl(this.scope, base) : directoryOf(scriptUrl);
    } catch (e) {
      throw createError(
        ErrorCode.STORAGE_NOT_SUPPORTED,
        `the service worker URL ${this.serviceWorkerUrl} or scope ${String(this.scope)} is not a valid URL (${String(e)}); pass an absolute or page-relative serviceWorkerUrl`,
        { cause: e },
      );
    }
    return ensureRegistration({ container, scriptUrl, scope, timeoutMs: this.requestTimeoutMs });
  }

  /** `send`, for helpers outside the class. */
  private readonly sender = <K extends CommandType>(type: K, fields: CommandFields<K>): Promise<CommandResult<K>> => this.send(type, fields);

  private async send<K extends CommandType>(type: K, fields: CommandFields<K>): Promise<CommandResult<K>> {
    const reg = await this.ready();
    const container = this.container as ServiceWorkerContainer;
    const controller = container.controller;
    const target: PostTarget | null = controller && isControlledBy(container, reg) ? controller : reg.active;
    if (!target) {
      throw createError(ErrorCode.OPERATION_ABORTED, 'the offline service worker is not active; reload the page', { type }, Severity.RECOVERABLE);
    }
    return sendRequest(target, type, fields, this.requestTimeoutMs);
  }
}
