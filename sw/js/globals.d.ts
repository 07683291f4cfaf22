// What the worker script's bootstrap (bootstrap.js) finds in the global scope without defining
// it: the wasm-bindgen `no-modules` glue, which comes before it in dist/offline-manager-sw.js,
// and the app's configuration, which an app's own worker sets before importScripts. For
// `tsc -p sw/js` only; nothing here is emitted.

/** What `wasm_bindgen(...)` accepts as the module (wasm-bindgen's `InitInput`). */
type OmWasmInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

/** The wasm-bindgen `no-modules` glue: instantiates the module, then exposes the exports of sw/src/lib.rs. */
interface OmWasmBindgen {
  (init: { module_or_path: OmWasmInput | Promise<OmWasmInput> }): Promise<unknown>;
  /** Opens the database and builds the manager; `scope` is the registration scope (ends in `/`). */
  boot(scope: string): Promise<void>;
  /** Resumes unfinished jobs; resolves with how many were started. */
  wake(): Promise<number>;
  /** Answers a request below `{scope}__offline__/`; `rest` is the path below the scope. */
  handle_fetch(rest: string, request: Request): Promise<Response>;
  /** Answers a segment request from records already read; `undefined` to leave it to `handle_fetch`. */
  handle_fetch_from_records(rest: string, request: Request, records: unknown[]): Response | undefined;
  /** Handles one page message; with no port, resolves with the reply. */
  handle_message(data: unknown, port: MessagePort | undefined): Promise<unknown>;
  /** Stores what a background fetch delivered; `end` is `success`, `fail` or `abort`. */
  background_delivered(id: string, end: string, failureReason: string, records: OmDelivered[]): Promise<void>;
  /** The browser's progress on a background fetch. */
  background_progress(id: string, downloaded: number): Promise<void>;
}

/** One background fetch record as the worker reads it. */
interface OmDelivered {
  url: string;
  finalUrl: string;
  status: number;
  contentType: string | null;
  body: Blob | null;
  error: string | null;
}

// Background Fetch (Chromium only) is in no TypeScript lib: what the bootstrap uses of it.
interface OmBackgroundFetchRecord {
  readonly request: Request;
  readonly responseReady: Promise<Response>;
}
interface OmBackgroundFetchRegistration extends EventTarget {
  readonly id: string;
  readonly downloaded: number;
  readonly failureReason: string;
  matchAll(): Promise<OmBackgroundFetchRecord[]>;
}
interface OmBackgroundFetchEvent extends ExtendableEvent {
  readonly registration: OmBackgroundFetchRegistration;
  /** On success and fail events only. */
  updateUI?(options: { title?: string }): Promise<void>;
}
interface OmBackgroundFetchManager {
  get(id: string): Promise<OmBackgroundFetchRegistration | undefined>;
  getIds(): Promise<string[]>;
}

declare const wasm_bindgen: OmWasmBindgen;

/** What an app's own worker may set before `importScripts('offline-manager-sw.js')` (README). */
interface OmWorkerConfig {
  skipWaiting?: boolean;
  claim?: boolean;
  wasmUrl?: string | URL;
  scope?: string | URL;
}

/** What the bootstrap tells the app's worker code (`self.OFFLINE_MANAGER_INFO`). */
interface OmWorkerInfo {
  readonly version: string;
  readonly protocol: number;
  readonly scope: string;
  readonly wasmUrl: string;
  readonly embedded: boolean;
}

// `var`, so that they are properties of `self` as well.
declare var OFFLINE_MANAGER: OmWorkerConfig | undefined;
declare var OFFLINE_MANAGER_INFO: OmWorkerInfo;

/** What `omFetchSegment` (requests.js) resolves to, for sw/src/net.rs to check. */
interface OmFetchedSegment {
  /** Which deadline passed: 0 none, 1 the headers', 2 the body's. */
  late: 0 | 1 | 2;
  status: number;
  /** The status is 2xx. */
  ok: boolean;
  /** The response is opaque (or an opaque redirect): its bytes cannot be read or checked. */
  opaque: boolean;
  url: string;
  contentLength: string | null;
  contentEncoding: string | null;
  contentType: string | null;
  /** The body; null unless the response was ok and the body arrived in time. */
  blob: Blob | null;
  /** The body's deadline; 0 unless the headers arrived. */
  deadlineMs: number;
  /** How long the body took to arrive. */
  elapsedMs: number;
}
