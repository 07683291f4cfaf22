// Request/response over MessageChannel: each request carries a fresh port and a page-unique id;
// the worker answers once on that port. A reply with another id is ignored; no reply within the
// timeout rejects with 9002 and closes the port. Every reply of the worker carries its protocol
// version (`v`) and package version (`workerVersion`): a refusal from a worker of another protocol
// becomes a 9002 naming both versions.

import { createError, ErrorCode, isKalturaError, Severity, describe, type KalturaError } from './errors.js';
import { timerDelay } from './timeout.js';
import { isReply, PROTOCOL_VERSION, type CommandFields, type CommandResult, type CommandType, type RequestMessage } from './protocol.js';

/** Anything requests can be posted to: a ServiceWorker, or a MessagePort in tests. */
export interface PostTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
}

/** The npm package version of this shim: scripts/build.sh stamps it from page-shim/package.json. */
export const SHIM_VERSION: string = '__OM_VERSION__';

let lastId = 0;

/** A request id unique in this page (shared by every OfflineManager of the module). */
export function nextRequestId(): number {
  lastId = lastId >= Number.MAX_SAFE_INTEGER ? 1 : lastId + 1;
  return lastId;
}

function entryOf(fields: object): string | undefined {
  const id = (fields as { entryId?: unknown }).entryId;
  return typeof id === 'string' ? id : undefined;
}

/** Builds the message for a command (`{v, id, type, ...fields}`), dropping undefined fields. */
export function buildRequest<K extends CommandType>(type: K, fields: CommandFields<K>, id: number): RequestMessage<K> {
  const message: Record<string, unknown> = { v: PROTOCOL_VERSION, id, type };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) message[key] = value;
  }
  return message as RequestMessage<K>;
}

/**
 * The error for a refusal by a worker that speaks another protocol version (its reply's `v`), or
 * null. Page and worker of different releases meet when an app ships a new package while an old
 * worker still controls an open tab (or a page is served from an old cache).
 */
export function protocolMismatch(reply: object, type: string, entryId?: string): KalturaError | null {
  const workerProtocol = (reply as { v?: unknown }).v;
  if (typeof workerProtocol !== 'number' || workerProtocol === PROTOCOL_VERSION) return null;
  const raw = (reply as { workerVersion?: unknown }).workerVersion;
  const workerVersion = typeof raw === 'string' ? raw : 'unknown';
  return createError(
    ErrorCode.OPERATION_ABORTED,
    `the page shim (package ${SHIM_VERSION}, protocol ${PROTOCOL_VERSION}) and the offline service worker (package ${workerVersion}, protocol ${workerProtocol}) speak different protocol versions, so "${type}" was refused; reload the page (closing the app's other tabs, so that the worker of the new release takes over), and make sure the page shim and offline-manager-sw.js (with its .wasm) are served from the same package version`,
    { entryId, type, pageProtocol: PROTOCOL_VERSION, workerProtocol, pageVersion: SHIM_VERSION, workerVersion },
  );
}

/**
 * Posts a command to `target` with a new MessageChannel and resolves with the worker's result, or
 * rejects with the worker's KalturaError, or with 9002 after `timeoutMs`.
 */
export function sendRequest<K extends CommandType>(target: PostTarget, type: K, fields: CommandFields<K>, timeoutMs: number): Promise<CommandResult<K>> {
  const id = nextRequestId();
  const entryId = entryOf(fields);
  return new Promise<CommandResult<K>>((resolve, reject) => {
    const channel = new MessageChannel();
    const port = channel.port1;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = (error: KalturaError | null, result?: CommandResult<K>): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      port.onmessage = null;
      port.onmessageerror = null;
      port.close();
      if (error) reject(error);
      else resolve(result as CommandResult<K>);
    };

    port.onmessage = (event: MessageEvent) => {
      const reply: unknown = event.data;
      if (!isReply(reply) || reply.id !== id) return; // not ours: keep waiting
      const mismatch = reply.ok ? null : protocolMismatch(reply, type, entryId);
      if (mismatch) {
        finish(mismatch);
      } else if (reply.ok) {
        finish(null, reply.result as CommandResult<K>);
      } else {
        const error = isKalturaError(reply.error)
          ? reply.error
          : createError(
              ErrorCode.OPERATION_ABORTED,
              `the worker refused "${type}" with an unreadable error (${describe(reply.error)}); make sure the page shim and the worker come from the same release`,
              { entryId, type, cause: reply.error },
            );
        finish(error);
      }
    };
    port.onmessageerror = () => {
      finish(createError(ErrorCode.OPERATION_ABORTED, `the worker's reply to "${type}" could not be read; reload the page and try again`, { entryId, type }));
    };

    const delay = timerDelay(timeoutMs);
    if (delay !== undefined) {
      timer = setTimeout(() => {
        finish(
          createError(
            ErrorCode.OPERATION_ABORTED,
            `the worker did not answer "${type}" within ${timeoutMs} ms; reload the page (if it keeps happening, check the service worker's console for errors)`,
            { entryId, type, timeoutMs },
            Severity.RECOVERABLE,
          ),
        );
      }, delay);
    }

    try {
      target.postMessage(buildRequest(type, fields, id), [channel.port2]);
    } catch (e) {
      finish(
        createError(ErrorCode.OPERATION_ABORTED, `could not send "${type}" to the worker (${describe(e)}); the request must be JSON-serialisable`, {
          entryId,
          type,
          cause: e,
        }),
      );
    }
  });
}
