// The page ↔ worker protocol, version 1. Mirrors crates/engine/src/protocol.rs: keep names exact.
//
// Page → worker: `worker.postMessage({v: 1, id, type, ...fields}, [port])`; the worker answers
// once on `port` with `{id, ok: true, result}` or `{id, ok: false, error}`.
// Worker → every window: `{kind: "event", type, detail}` on `navigator.serviceWorker`.

import type { KalturaError } from './errors.js';

/** The protocol version this shim speaks. */
export const PROTOCOL_VERSION = 1 as const;

/** Longest entry id the worker accepts. */
export const MAX_ENTRY_ID_LENGTH = 256;

export type EntryState = 'prepared' | 'downloading' | 'paused' | 'completed' | 'failed';
export type StopReason = 'user' | 'quota' | 'network' | 'error';

/** A JSON object (what crosses the channel as a media config). */
export type JsonObject = { [key: string]: unknown };

/** A DRM entry of a DASH source, as the Kaltura provider gives it. */
export interface DrmData {
  licenseUrl: string;
  scheme: string;
  [key: string]: unknown;
}

/** A DASH source of a media config. */
export interface DashSource {
  id?: string;
  url: string;
  mimetype?: string;
  drmData?: DrmData[];
  [key: string]: unknown;
}

/** `sources` of a media config; only `dash` can be stored offline. */
export interface MediaSources {
  dash?: DashSource[];
  hls?: unknown[];
  progressive?: unknown[];
  [key: string]: unknown;
}

/** A media config: what the Kaltura provider returns and `player.setMedia` takes. */
export interface MediaConfig {
  id?: string;
  sources: MediaSources;
  session?: { isAnonymous?: boolean; partnerId?: number; ks?: string; [key: string]: unknown };
  duration?: number;
  type?: string;
  poster?: string;
  metadata?: { name?: string; description?: string; [key: string]: unknown };
  captions?: unknown[];
  plugins?: JsonObject;
  [key: string]: unknown;
}

/** What to store: mirrors `mpd::SelectOptions` (crates/mpd/src/select.rs has the rules). */
export interface DownloadOptions {
  /** Preferred audio language (all audio languages when none matches or none is given). */
  language?: string;
  /** Target video bitrate in bits per second (the highest when omitted). */
  bitrate?: number;
  /** Audio languages to store, in addition to `language`. */
  audioLanguages?: string[];
  /** Text languages to store (all text tracks when omitted). */
  textLanguages?: string[];
  /** Preferred video height in pixels (the closest wins). */
  videoHeight?: number;
  /** Highest video height allowed. */
  maxHeight?: number;
  /** Target video bitrate; `bitrate` wins when both are given. */
  videoBitrate?: number;
  /** Also store the thumbnail (image) track. */
  thumbnails?: boolean;
  /** Codecs this browser plays (prefixes such as 'avc1', 'mp4a'); others are never chosen. */
  codecs?: string[];
  /** Origins segment requests may be redirected to besides the manifest's and its BaseURLs' (e.g. 'https://cdn2.example.com'); ['*'] allows any. Other cross-origin redirects fail with 9011. */
  redirectOrigins?: string[];
  /** Requests in flight at once for this download, 1–16 (default 4). */
  concurrency?: number;
}

/** An audio or video type of a manifest, as MSE is asked about it: `{mimeType}; codecs="{codecs}"`. */
export interface MediaType {
  mimeType: string;
  /** `@codecs` as written; empty when the manifest gives none. */
  codecs: string;
}

/**
 * The options the download is planned with: the app's, plus `playable`, the audio/video types
 * this browser's MSE plays (the shim probes them; absent where the page has no MSE). Audio and
 * video of other types are never chosen unless the app's `codecs` names them.
 */
export interface PlanOptions extends DownloadOptions {
  playable?: MediaType[];
}

/** An entry as the worker reports it. */
export interface EntrySummary {
  id: string;
  state: EntryState;
  stopReason: StopReason | null;
  metadata: JsonObject | null;
  poster: string | null;
  duration: number | null;
  /** Bytes; an estimate until every segment is stored. */
  expectedSize: number;
  /** Bytes stored. */
  size: number;
  segmentsDone: number;
  segmentsTotal: number;
  /** 0..100. */
  progress: number;
  /** Licence expiry in ms since the epoch; null for clear content. */
  expiration: number | null;
  error: KalturaError | null;
}

/** A persistent-license session the browser's CDM keeps for an entry (Widevine, PlayReady). */
export interface PersistentSession {
  keySystem: string;
  /** What `MediaKeySession.load` takes. */
  sessionId: string;
  initDataType: string;
  /** base64. */
  initData: string;
  /** ms since the epoch; null when the licence has no expiry. */
  expiration: number | null;
}

/** One ContentProtection of the selected tracks, as the worker read it from the manifest. */
export interface ProtectionInfo {
  /** `@schemeIdUri`, lower-cased (`urn:uuid:edef8ba9-...` for Widevine). */
  scheme: string;
  value: string | null;
  /** `cenc:default_KID`, UUID form. */
  defaultKid: string | null;
  /** `cenc:pssh`, base64. */
  pssh: string | null;
  licenseUrl: string | null;
}

/** One entry with its stored config and the URL of its local manifest. */
export interface EntryDetail extends EntrySummary {
  config: MediaConfig;
  /** Absolute URL under the worker scope (`{scope}__offline__/{entry}/manifest.mpd`). */
  localManifestUrl: string;
  /** For encrypted entries: where the worker answers ClearKey licence requests offline. */
  localLicenseUrl?: string;
  /** For entries whose licence the browser's CDM keeps: the sessions to load offline. */
  sessions?: PersistentSession[];
}

/** Each command: the fields the page sends and the result the worker answers. */
export interface Commands {
  prepare: { request: { entryId: string; config: MediaConfig }; result: EntrySummary };
  download: { request: { entryId: string; options: PlanOptions }; result: EntrySummary };
  pause: { request: { entryId: string }; result: EntrySummary };
  resume: { request: { entryId: string }; result: EntrySummary };
  remove: { request: { entryId: string }; result: { entryId: string; sessions?: PersistentSession[] } };
  pauseAll: { request: Record<string, never>; result: { entryIds: string[] } };
  removeAll: { request: Record<string, never>; result: { entryIds: string[]; sessions?: PersistentSession[] } };
  get: { request: { entryId: string }; result: EntryDetail };
  list: { request: Record<string, never>; result: EntrySummary[] };
  ping: { request: Record<string, never>; result: { activeJobs: number; wasmMemoryBytes?: number | null; startedAt?: number } };
  renew: { request: { entryId: string; config?: MediaConfig }; result: { entryId: string; expiration: number | null } };
  /** Selects without downloading: what protects the selected tracks, and the manifest's audio/video types to probe. */
  protection: { request: { entryId: string; options: PlanOptions }; result: { entryId: string; protection: ProtectionInfo[]; mediaTypes: MediaType[] } };
  keepSessions: { request: { entryId: string; sessions: PersistentSession[] }; result: EntrySummary };
}
export type CommandType = keyof Commands;
export type CommandFields<K extends CommandType> = Commands[K]['request'];
export type CommandResult<K extends CommandType> = Commands[K]['result'];

/** A request as posted to the worker. */
export type RequestMessage<K extends CommandType = CommandType> = {
  v: typeof PROTOCOL_VERSION;
  id: number;
  type: K;
} & CommandFields<K>;

/** The worker's single answer on the request's port. */
export type ReplyMessage<R = unknown> =
  | { id: number; ok: true; result: R }
  | { id: number; ok: false; error: KalturaError };

/** `progress` event detail. */
export interface ProgressDetail {
  entryId: string;
  /** 0..100. */
  progress: number;
  bytesDownloaded: number;
  totalBytes: number;
  segmentsDone: number;
  segmentsTotal: number;
  /** Bytes per second over the last interval (worker extension). */
  speed?: number;
  /** Seconds to completion at that speed, when known (worker extension). */
  eta?: number | null;
}

/** `statechange` event detail. */
export interface StateChangeDetail {
  entryId: string;
  state: EntryState;
  stopReason: StopReason | null;
}

/** Event details by event type. */
export interface OfflineEventMap {
  progress: ProgressDetail;
  statechange: StateChangeDetail;
  /** A KalturaError; `data.entryId` names the entry when there is one. */
  error: KalturaError;
}
export type OfflineEventType = keyof OfflineEventMap;

/** A broadcast from the worker. */
export type WorkerEventMessage = {
  [K in OfflineEventType]: { kind: 'event'; type: K; detail: OfflineEventMap[K] };
}[OfflineEventType];

const EVENT_TYPES: readonly string[] = ['progress', 'statechange', 'error'];

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null;
}

/** Whether a message on `navigator.serviceWorker` is one of the worker's event broadcasts. */
export function isWorkerEvent(data: unknown): data is WorkerEventMessage {
  return isObject(data) && data.kind === 'event' && typeof data.type === 'string' && EVENT_TYPES.includes(data.type) && isObject(data.detail);
}

/** Whether a message on a request port is a well-formed reply. */
export function isReply(data: unknown): data is ReplyMessage {
  return isObject(data) && typeof data.id === 'number' && typeof data.ok === 'boolean';
}

/**
 * The protocol's names at run time, so page-shim/test/protocol-agreement.test.mjs can check them
 * against the Rust worker (crates/engine/examples/protocol_check.rs). The types above are what
 * TypeScript checks; the `satisfies` clauses make this table fail to compile when it names a
 * field the types do not have.
 */
export const PROTOCOL_FIELDS = {
  commands: {
    prepare: ['entryId', 'config'],
    download: ['entryId', 'options'],
    pause: ['entryId'],
    resume: ['entryId'],
    remove: ['entryId'],
    pauseAll: [],
    removeAll: [],
    get: ['entryId'],
    list: [],
    ping: [],
    renew: ['entryId', 'config'],
    protection: ['entryId', 'options'],
    keepSessions: ['entryId', 'sessions'],
  } satisfies { [K in CommandType]: ReadonlyArray<keyof CommandFields<K>> },
  summary: [
    'id', 'state', 'stopReason', 'metadata', 'poster', 'duration', 'expectedSize', 'size',
    'segmentsDone', 'segmentsTotal', 'progress', 'expiration', 'error',
  ] satisfies ReadonlyArray<keyof EntrySummary>,
  progress: [
    'entryId', 'progress', 'bytesDownloaded', 'totalBytes', 'segmentsDone', 'segmentsTotal', 'speed', 'eta',
  ] satisfies ReadonlyArray<keyof ProgressDetail>,
  statechange: ['entryId', 'state', 'stopReason'] satisfies ReadonlyArray<keyof StateChangeDetail>,
  states: ['prepared', 'downloading', 'paused', 'completed', 'failed'] satisfies ReadonlyArray<EntryState>,
  stopReasons: ['user', 'quota', 'network', 'error'] satisfies ReadonlyArray<StopReason>,
  downloadOptions: [
    'language', 'bitrate', 'audioLanguages', 'textLanguages', 'videoHeight', 'maxHeight',
    'videoBitrate', 'thumbnails', 'codecs', 'redirectOrigins', 'concurrency', 'playable',
  ] satisfies ReadonlyArray<keyof PlanOptions>,
} as const;
