// The page <-> worker protocol. Every type and constant comes from the Rust definitions
// (crates/engine/src/protocol/), generated into ./generated/protocol.ts; this module only derives
// the shapes the shim works with from them, and checks messages at run time.
//
// Page -> worker: `worker.postMessage({v, id, type, ...fields}, [port])`; the worker answers once
// on `port` with `{id, ok: true, result}` or `{id, ok: false, error}`.
// Worker -> every window: `{kind: "event", type, detail}` on `navigator.serviceWorker`.

import type { Command, CommandResults, Event, KalturaError, PROTOCOL_VERSION, Protection, SelectOptions } from './generated/protocol.js';

export { COMMAND_TYPES, MAX_CONCURRENCY, MAX_ENTRY_ID_LENGTH, PROTOCOL_VERSION } from './generated/protocol.js';
export type {
  BackgroundPlan,
  BackgroundRequest,
  CommandResults,
  DownloadMode,
  EntryDetail,
  EntriesActedOn,
  EntryState,
  EntrySummary,
  MediaType,
  PersistentSession,
  Ping,
  ProgressDetail,
  ProtectionAnswer,
  Removed,
  Renewed,
  StateChangeDetail,
  StopReason,
  Verified,
} from './generated/protocol.js';
export type { DashSource, DrmData, JsonObject, MediaConfig, MediaSources } from './media-config.js';

/** What to store (the rules are `mpd::select`'s, crates/mpd/src/select.rs). */
export type DownloadOptions = Omit<SelectOptions, 'playable'>;

/**
 * The options the download is planned with: the app's, plus `playable`, the audio/video types
 * this browser's MSE plays (the shim probes them; absent where the page has no MSE). Audio and
 * video of other types are never chosen unless the app's `codecs` names them.
 */
export type PlanOptions = SelectOptions;

/** One ContentProtection of the selected tracks, as the worker read it from the manifest. */
export type ProtectionInfo = Protection;

export type CommandType = Command['type'];
/** The fields a command sends besides `v`, `id` and `type`. */
export type CommandFields<K extends CommandType> = Omit<Extract<Command, { type: K }>, 'type'>;
export type CommandResult<K extends CommandType> = CommandResults[K];

/** Each command: the fields the page sends and the result the worker answers. */
export type Commands = { [K in CommandType]: { request: CommandFields<K>; result: CommandResult<K> } };

/** A request as posted to the worker. */
export type RequestMessage<K extends CommandType = CommandType> = {
  v: typeof PROTOCOL_VERSION;
  id: number;
  type: K;
} & CommandFields<K>;

/** The worker's single answer on the request's port. */
export type ReplyMessage<R = unknown> = { id: number; ok: true; result: R } | { id: number; ok: false; error: KalturaError };

/** Event details by event type. */
export type OfflineEventMap = { [E in Event as E['type']]: E['detail'] };
export type OfflineEventType = keyof OfflineEventMap;

/** A broadcast from the worker. */
export type WorkerEventMessage = { kind: 'event' } & Event;

const EVENT_TYPES: readonly string[] = ['progress', 'statechange', 'error'] satisfies readonly OfflineEventType[];

function isObject(value: unknown): value is { [key: string]: unknown } {
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
