// Kaltura-style errors: `{severity, category: 9, code, data: {message, ...}}`, the shape of the
// Kaltura Player's own errors and of every error the worker sends. Errors are plain objects (not
// `Error` instances), so the ones the shim makes look exactly like the ones the worker sends.
//
// Errors the page shim creates itself (the worker documents its own in crates/engine/src/error.rs):
//
// | code | name                                   | sev | when (in the shim)                                        |
// |------|----------------------------------------|-----|-----------------------------------------------------------|
// | 9000 | STORAGE_NOT_SUPPORTED                  | 2   | no `navigator.serviceWorker` (old browser, http page,      |
// |      |                                        |     | private mode); register() failed; the worker failed to     |
// |      |                                        |     | install; offline playback asked on a page outside the      |
// |      |                                        |     | worker scope                                               |
// | 9002 | OPERATION_ABORTED                      | 1   | the worker did not answer in requestTimeoutMs; it did not  |
// |      |                                        |     | activate or take control of the page in time; the reply    |
// |      |                                        |     | could not be read; the OfflineManager was destroyed (sev 2)|
// |      |                                        |     | the worker speaks another protocol version (sev 2: reload, |
// |      |                                        |     | serve page shim and worker from one package version)       |
// | 9003 | REQUESTED_ITEM_NOT_FOUND               | 1   | getDownloadedMediaConfig on an entry not completed yet     |
// | 9009 | CONTENT_UNSUPPORTED_BY_BROWSER         | 2   | the media config has no DASH source                        |
// | 9010 | CANNOT_ADD_ITEM                        | 2   | bad getMediaConfig argument (no entryId and no sources,    |
// |      |                                        |     | config not JSON-serialisable, bad DASH URL); bad download  |
// |      |                                        |     | options (language not a string, bitrate not > 0)           |
// | 9012 | COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER | 2/1 | Kaltura Player script (providers) not loaded; no provider  |
// |      |                                        |     | config; the provider failed (2) or timed out (1)           |
// | 9013 | ENTRY_DOES_NOT_EXIST                   | 2   | a per-entry method called without a usable entry id        |
// |      |                                        |     | (the worker answers 9013 for unknown ids itself)           |
// | 9016 | RENEW_LICENSE_FAILED                   | 2   | renewLicense: clear content has no licence; DRM renewal    |
// |      |                                        |     | is not implemented yet                                     |
//
// Severity 1 (recoverable) means the same call may succeed later without changing anything.

/** Kaltura Player error severities. */
export const Severity = {
  RECOVERABLE: 1,
  CRITICAL: 2,
} as const;
export type SeverityValue = (typeof Severity)[keyof typeof Severity];

/** Kaltura Player error category of every offline error. */
export const STORAGE_CATEGORY = 9 as const;

/** Playkit's category-9 (STORAGE) error codes. */
export const ErrorCode = {
  STORAGE_NOT_SUPPORTED: 9000,
  INDEXED_DB_ERROR: 9001,
  OPERATION_ABORTED: 9002,
  REQUESTED_ITEM_NOT_FOUND: 9003,
  MALFORMED_OFFLINE_URI: 9004,
  CANNOT_STORE_LIVE_OFFLINE: 9005,
  STORE_ALREADY_IN_PROGRESS: 9006,
  NO_INIT_DATA_FOR_OFFLINE: 9007,
  LOCAL_PLAYER_INSTANCE_REQUIRED: 9008,
  CONTENT_UNSUPPORTED_BY_BROWSER: 9009,
  CANNOT_ADD_ITEM: 9010,
  DOWNLOAD_FAILED: 9011,
  COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER: 9012,
  ENTRY_DOES_NOT_EXIST: 9013,
  PAUSE_FAILED: 9014,
  RESUME_FAILED: 9015,
  RENEW_LICENSE_FAILED: 9016,
  ENTRY_ALREADY_EXISTS: 9017,
  REMOVE_FAILED: 9018,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

/** `data` of a KalturaError: always a message saying what happened and what to do. */
export interface KalturaErrorData {
  message: string;
  entryId?: string;
  [key: string]: unknown;
}

/** The error shape of the Kaltura Player (category 9, STORAGE). */
export interface KalturaError {
  /** 1 recoverable, 2 critical. */
  severity: SeverityValue;
  category: typeof STORAGE_CATEGORY;
  /** One of {@link ErrorCode}. */
  code: number;
  data: KalturaErrorData;
}

/** Builds a KalturaError; `extra` fields (entryId, cause, ...) go into `data` next to `message`. */
export function createError(
  code: ErrorCodeValue,
  message: string,
  extra: Record<string, unknown> = {},
  severity: SeverityValue = Severity.CRITICAL,
): KalturaError {
  const data: KalturaErrorData = { message };
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined && key !== 'message') data[key] = value;
  }
  return { severity, category: STORAGE_CATEGORY, code, data };
}

/** Whether a value has the KalturaError shape (as the worker sends it). */
export function isKalturaError(value: unknown): value is KalturaError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const data = v.data as Record<string, unknown> | null | undefined;
  return (
    (v.severity === 1 || v.severity === 2) &&
    v.category === STORAGE_CATEGORY &&
    typeof v.code === 'number' &&
    typeof data === 'object' &&
    data !== null &&
    typeof data.message === 'string'
  );
}

/** A readable one-liner for any thrown value. */
export function describe(value: unknown): string {
  if (isKalturaError(value)) return `${value.code}: ${value.data.message}`;
  if (value instanceof Error) return value.message || value.name;
  if (typeof value === 'object' && value !== null) {
    const v = value as { message?: unknown; code?: unknown; data?: unknown };
    if (typeof v.message === 'string') return v.message;
    try {
      return JSON.stringify(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/** Passes KalturaErrors through; wraps anything else (a bug, a browser exception) as `code`. */
export function toKalturaError(
  value: unknown,
  code: ErrorCodeValue = ErrorCode.OPERATION_ABORTED,
  context = 'the offline manager failed unexpectedly',
): KalturaError {
  if (isKalturaError(value)) return value;
  return createError(code, `${context}: ${describe(value)}; reload the page and try again`, { cause: value });
}
