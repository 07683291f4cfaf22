// DRM in the page: which key systems a media config asks for, whether this browser can keep
// their licences offline (EME feature detection), and the drmData of a stored entry rewritten to
// the worker's local licence endpoint.
//
// The worker keeps ClearKey licences itself (IndexedDB) and answers the player's licence
// requests offline. Widevine and PlayReady need persistent-license sessions made by the browser's
// CDM (persistent-sessions.ts); where the browser has none (and for FairPlay), or has no EME
// ClearKey for a ClearKey entry, the download is refused before any byte is fetched (9009),
// saying why.

import { createError, ErrorCode } from './errors.js';
import { persistentAccess, unsupportedDrm } from './persistent-sessions.js';
import type { DrmData, MediaConfig } from './protocol.js';

/** EME key system for a Kaltura `drmData.scheme` (or an EME name given as is). */
export function keySystemOf(scheme: string): string {
  const s = scheme.toLowerCase();
  if (s.includes('clearkey')) return 'org.w3.clearkey';
  if (s.includes('widevine')) return 'com.widevine.alpha';
  if (s.includes('playready')) return 'com.microsoft.playready';
  if (s.includes('fairplay') || s.includes('fps')) return 'com.apple.fps';
  return scheme;
}

function drmDataOf(config: MediaConfig | undefined): DrmData[] {
  const dash = config?.sources?.dash?.[0];
  return Array.isArray(dash?.drmData) ? dash.drmData.filter((d) => d && typeof d.scheme === 'string' && d.scheme !== '') : [];
}

/** Whether EME offers ClearKey here: without it (this WebKitGTK has no EME) no player can decrypt a stored copy. */
async function clearKeyPlays(): Promise<boolean> {
  const nav = (globalThis as { navigator?: { requestMediaKeySystemAccess?: Navigator['requestMediaKeySystemAccess'] } }).navigator;
  if (typeof nav?.requestMediaKeySystemAccess !== 'function') return false;
  try {
    await nav.requestMediaKeySystemAccess('org.w3.clearkey', [
      { initDataTypes: ['cenc'], videoCapabilities: [{ contentType: 'video/mp4; codecs="avc1.42E01E"' }] },
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Where a download's licence is kept: one key system with persistent-license sessions. */
export interface PersistentTarget {
  keySystem: string;
  access: MediaKeySystemAccess;
  licenseUrl: string;
}

/**
 * How a download's licence can be kept offline: `null` when the worker keeps it (clear content,
 * or a ClearKey entry in drmData where EME offers ClearKey; the worker checks the manifest's
 * ContentProtection itself), or
 * the first drmData system (`only` that one, when given) for which this browser offers
 * persistent-license sessions. Refuses (9009) when there is none, saying why, before any byte is
 * fetched.
 */
export async function drmTarget(config: MediaConfig | undefined, entryId: string, only?: string): Promise<PersistentTarget | null> {
  const entries = drmDataOf(config).filter((d) => only === undefined || keySystemOf(d.scheme) === only);
  const systems = entries.map((d) => keySystemOf(d.scheme));
  if (systems.length === 0) return null;
  if (systems.includes('org.w3.clearkey')) {
    if (await clearKeyPlays()) return null;
    throw createError(
      ErrorCode.CONTENT_UNSUPPORTED_BY_BROWSER,
      `entry ${entryId} is protected with ClearKey and this browser has no EME for it (requestMediaKeySystemAccess is missing or refuses org.w3.clearkey), so no player here could decrypt a stored copy; play it online in a browser with EME`,
      { entryId, keySystems: ['org.w3.clearkey'] },
    );
  }
  for (const d of entries) {
    const keySystem = keySystemOf(d.scheme);
    const access = typeof d.licenseUrl === 'string' && d.licenseUrl !== '' ? await persistentAccess(keySystem) : null;
    if (access) return { keySystem, access, licenseUrl: d.licenseUrl };
  }
  throw unsupportedDrm(
    entryId,
    [...new Set(systems)],
    'this browser cannot keep their licences offline (no persistent-license session for them: Chromium without a Widevine CDM, desktop Chrome, or any browser without that key system)',
  );
}

/**
 * The drmData a stored entry plays with: ClearKey entries (and scheme-less ones, which the
 * Kaltura provider makes of ClearKey) are dropped, since the worker answers their licence
 * requests at `localLicenseUrl` and the Kaltura Player refuses a ClearKey drmData (7007); the
 * app gives that URL to its player's drm config instead. Other systems are kept as they are.
 */
export function localDrmData(original: DrmData[] | undefined, localLicenseUrl: string | undefined): DrmData[] | undefined {
  if (!original || !localLicenseUrl) return original;
  const kept = original.filter((d) => typeof d.scheme === 'string' && d.scheme !== '' && keySystemOf(d.scheme) !== 'org.w3.clearkey');
  return kept.length > 0 ? kept : undefined;
}
