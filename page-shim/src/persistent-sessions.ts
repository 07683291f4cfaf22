// Persistent-license sessions for Widevine and PlayReady: made, renewed and released by the page,
// since EME exists only in documents (a service worker has no MediaKeys). Where the browser's CDM
// offers them (Chrome on Android and ChromeOS with Widevine, Edge on Windows with PlayReady), a
// download first makes one session per distinct pssh of the selected tracks, and the worker keeps
// the session ids; offline, the player loads those sessions instead of asking a licence server.

import { createError, describe, ErrorCode, isKalturaError, type KalturaError } from './errors.js';
import type { PersistentSession, ProtectionInfo } from './protocol.js';
import { withTimeout } from './timeout.js';

/** DRM system ids (ContentProtection `urn:uuid:`) of the key systems with persistent sessions. */
const SYSTEM_IDS: Record<string, string> = {
  'com.widevine.alpha': 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
  'com.microsoft.playready': '9a04f079-9840-4286-ab92-e65be0885f95',
};

type RequestAccess = (keySystem: string, configs: MediaKeySystemConfiguration[]) => Promise<MediaKeySystemAccess>;

/** The access to `keySystem` with persistent-license sessions, or null where the browser has none. */
export async function persistentAccess(keySystem: string): Promise<MediaKeySystemAccess | null> {
  const nav = (globalThis as { navigator?: { requestMediaKeySystemAccess?: RequestAccess } }).navigator;
  if (typeof nav?.requestMediaKeySystemAccess !== 'function') return null;
  try {
    return await nav.requestMediaKeySystemAccess(keySystem, [
      {
        initDataTypes: ['cenc'],
        videoCapabilities: [{ contentType: 'video/mp4; codecs="avc1.42E01E"' }],
        audioCapabilities: [{ contentType: 'audio/mp4; codecs="mp4a.40.2"' }],
        persistentState: 'required',
        sessionTypes: ['persistent-license'],
      },
    ]);
  } catch {
    return null;
  }
}

/** Bytes of a base64 (or base64url) text: what players want for a session's `initData`. */
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64.replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, ''));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** base64 of bytes. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * The cenc init data each session is made from: the distinct `cenc:pssh` of `keySystem` in the
 * selected tracks, else, for Widevine, one pssh naming the manifest's default KIDs (the form
 * Widevine licence servers accept). Empty when the manifest gives neither.
 */
export function initDataFor(keySystem: string, protection: ProtectionInfo[]): Uint8Array<ArrayBuffer>[] {
  const uuid = SYSTEM_IDS[keySystem];
  if (!uuid) return [];
  const psshs = [...new Set(protection.filter((p) => p.scheme.toLowerCase() === `urn:uuid:${uuid}` && p.pssh).map((p) => p.pssh as string))];
  if (psshs.length > 0) return psshs.map(base64ToBytes);
  const kids = [...new Set(protection.map((p) => p.defaultKid).filter((k): k is string => !!k))];
  return keySystem === 'com.widevine.alpha' && kids.length > 0 ? [widevinePssh(kids)] : [];
}

/** A version-0 pssh box for Widevine whose data lists `kids` (protobuf field 2, key_id). */
function widevinePssh(kids: string[]): Uint8Array<ArrayBuffer> {
  const hex = (s: string) => Uint8Array.from(s.replace(/-/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));
  const data = kids.flatMap((k) => [0x12, 0x10, ...hex(k)]);
  const box = [0, 0, 0, 0, 0x70, 0x73, 0x73, 0x68, 0, 0, 0, 0, ...hex(SYSTEM_IDS['com.widevine.alpha']), 0, 0, 0, data.length, ...data];
  box[3] = box.length;
  return Uint8Array.from(box);
}

function once<T extends Event>(target: EventTarget, type: string): Promise<T> {
  return new Promise((resolve) => target.addEventListener(type, (e) => resolve(e as T), { once: true }));
}

/**
 * Makes one persistent-license session from `initData`, getting its licence from `licenseUrl`
 * (the challenge POSTed as is, the answer given to the CDM), and closes it: the CDM keeps the
 * licence under the session id. Rejects with `fail(why)`.
 */
export async function makeSession(
  access: MediaKeySystemAccess,
  initData: Uint8Array<ArrayBuffer>,
  licenseUrl: string,
  timeoutMs: number,
  fail: (why: string) => KalturaError,
): Promise<PersistentSession> {
  const work = async (): Promise<PersistentSession> => {
    const keys = await access.createMediaKeys();
    const session = keys.createSession('persistent-license');
    const message = once<MediaKeyMessageEvent>(session, 'message');
    await session.generateRequest('cenc', initData);
    const challenge = (await message).message;
    let response: Response;
    try {
      response = await fetch(licenseUrl, { method: 'POST', body: challenge, headers: { 'Content-Type': 'application/octet-stream' } });
    } catch (e) {
      throw fail(`the licence server ${licenseUrl} could not be reached (${describe(e)})`);
    }
    if (!response.ok) throw fail(`the licence server ${licenseUrl} answered HTTP ${response.status}`);
    await session.update(await response.arrayBuffer());
    const kept: PersistentSession = {
      keySystem: access.keySystem,
      sessionId: session.sessionId,
      initDataType: 'cenc',
      initData: bytesToBase64(initData),
      expiration: Number.isFinite(session.expiration) ? session.expiration : null,
    };
    await session.close();
    return kept;
  };
  return withTimeout(
    work().catch((e: unknown) => {
      throw isKalturaError(e) ? e : fail(`the ${access.keySystem} CDM refused the session (${describe(e)})`);
    }),
    timeoutMs,
    () => fail(`no licence within ${timeoutMs} ms`),
  );
}

/**
 * Releases sessions from the CDM (load, remove, close). Best effort: a session the CDM no
 * longer knows, or a key system gone from the browser, is skipped.
 */
export async function releaseSessions(sessions: PersistentSession[] | undefined): Promise<void> {
  for (const s of sessions ?? []) {
    try {
      const access = await persistentAccess(s.keySystem);
      if (!access) throw new Error('no access');
      const session = (await access.createMediaKeys()).createSession('persistent-license');
      if (await session.load(s.sessionId)) await session.remove();
      await session.close();
    } catch {
      // skipped: nothing more can be done for it from the page
    }
  }
}

/** The error for content whose licence this browser cannot keep. */
export function unsupportedDrm(entryId: string, systems: string[], why: string): KalturaError {
  return createError(
    ErrorCode.CONTENT_UNSUPPORTED_BY_BROWSER,
    `entry ${entryId} is protected with ${systems.join(', ')} and cannot be stored offline here: ${why}. Play it online, or provide a ClearKey source`,
    { entryId, keySystems: systems },
  );
}

/** What a download needs to make its sessions: the key system and where its licences come from. */
export interface SessionTarget {
  access: MediaKeySystemAccess;
  licenseUrl: string;
}

/**
 * Makes the sessions of a download, one per init data of the selected tracks. Rejects 9007 when
 * the manifest gives no init data for the key system, 9011 naming the licence URL when a
 * licence cannot be had.
 */
export async function sessionsForDownload(
  target: SessionTarget,
  protection: ProtectionInfo[],
  entryId: string,
  timeoutMs: number,
): Promise<PersistentSession[]> {
  const keySystem = target.access.keySystem;
  const inits = initDataFor(keySystem, protection);
  if (inits.length === 0) {
    throw createError(
      ErrorCode.NO_INIT_DATA_FOR_OFFLINE,
      `entry ${entryId} is protected with ${keySystem} but its manifest gives no init data for it (no cenc:pssh for that system and no cenc:default_KID); it cannot be stored offline`,
      { entryId, keySystem },
    );
  }
  const fail = (why: string) =>
    createError(ErrorCode.DOWNLOAD_FAILED, `could not get the ${keySystem} licence for entry ${entryId}: ${why}; check the licence server and try again`, {
      entryId,
      url: target.licenseUrl,
    });
  return makeSessions(target, inits, timeoutMs, fail);
}

/**
 * New sessions for the init data of `old`, from a (fresh) licence URL. Rejects 9016 and releases
 * what it made when any fails; the old sessions are left to the caller.
 */
export async function renewedSessions(target: SessionTarget, old: PersistentSession[], entryId: string, timeoutMs: number): Promise<PersistentSession[]> {
  const fail = (why: string) =>
    createError(
      ErrorCode.RENEW_LICENSE_FAILED,
      `could not renew the ${target.access.keySystem} licence of entry ${entryId}: ${why}; the stored licence is kept, try again while online`,
      { entryId, url: target.licenseUrl },
    );
  return makeSessions(
    target,
    old.map((s) => base64ToBytes(s.initData)),
    timeoutMs,
    fail,
  );
}

/** One session per init data; when any fails, those already made are released. */
async function makeSessions(
  target: SessionTarget,
  inits: Uint8Array<ArrayBuffer>[],
  timeoutMs: number,
  fail: (why: string) => KalturaError,
): Promise<PersistentSession[]> {
  const made: PersistentSession[] = [];
  try {
    for (const init of inits) made.push(await makeSession(target.access, init, target.licenseUrl, timeoutMs, fail));
  } catch (e) {
    await releaseSessions(made);
    throw e;
  }
  return made;
}
