// Request/response over MessageChannel: each request carries a fresh port and a page-unique id;
// the worker answers once on that port. A reply with another id is ignored; no reply within the
// timeout rejects with 9002 and closes the port.

import { createError, ErrorCode, isKalturaError, Severity, describe, type KalturaError } from './errors.js';
import { timerDelay } from './timeout.js';
import { isReply, PROTOCOL_VERSION, type CommandFields, type CommandResult, type CommandType, type RequestMessage } from './protocol.js';

/** Anything requests can be posted to: a ServiceWorker, or a MessagePort in tests. */
export interface PostTarget {
  postMessage(message: unknown, transfer: Transferable[]): void;
}

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
 * Posts a command to `target` with a new MessageChannel and resolves with the worker's result, or
 * rejects with the worker's KalturaError, or with 9002 after `timeoutMs`.
 */
export function sendRequest<K extends CommandType>(
  target: PostTarget,
  type: K,
  fields: CommandFields<K>,
  timeoutMs: number,
): Promise<CommandResult<K>> {
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
      if (reply.ok) {
        finish(null, reply.result as CommandResult<K>);
      } else {
        const error = isKalturaError(reply.error)
          ? reply.error
          : createError(ErrorCode.OPERATION_ABORTED, `the worker refused "${type}" with an unreadable error (${describe(reply.error)}); make sure the page shim and the worker come from the same release`, { entryId, type, cause: reply.error });
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
      finish(createError(ErrorCode.OPERATION_ABORTED, `could not send "${type}" to the worker (${describe(e)}); the request must be JSON-serialisable`, { entryId, type, cause: e }));
    }
  });
}
