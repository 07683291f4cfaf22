// Kaltura-style errors: `{severity, category: 9, code, data: {message, ...}}`, the shape of the
// Kaltura Player's own errors and of every error the worker sends. Errors are plain objects (not
// `Error` instances), so the ones the shim makes look exactly like the ones the worker sends.
// The codes, severities and the shape are generated from crates/engine/src/error.rs; the README's
// error table says when each code is met.

import { ErrorCode, Severity, STORAGE_CATEGORY, type KalturaError, type KalturaErrorData, type SeverityValue } from './generated/protocol.js';

export { ErrorCode, Severity, STORAGE_CATEGORY };
export type { KalturaError, KalturaErrorData, SeverityValue };
export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

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
    (v.severity === 1 || v.severity === 2)
    && v.category === STORAGE_CATEGORY
    && typeof v.code === 'number'
    && typeof data === 'object'
    && data !== null
    && typeof data.message === 'string'
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
