// DRM in the page: which key systems a media config asks for, whether this browser can keep
// their licences offline (EME feature detection), and the drmData of a stored entry rewritten to
// the worker's local licence endpoint.
//
// The worker keeps ClearKey licences itself (IndexedDB) and answers the player's licence
// requests offline. Widevine, PlayReady and FairPlay need persistent-license sessions made by
// the browser's CDM; they are refused before any byte is fetched (9009), saying why.

import { createError, ErrorCode } from './errors.js';
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

type RequestAccess = (keySystem: string, configs: MediaKeySystemConfiguration[]) => Promise<unknown>;

/** Whether this browser offers persistent-license sessions for `keySystem`. */
export async function supportsPersistentLicenses(keySystem: string): Promise<boolean> {
  const nav = (globalThis as { navigator?: { requestMediaKeySystemAccess?: RequestAccess } }).navigator;
  if (typeof nav?.requestMediaKeySystemAccess !== 'function') return false;
  try {
    await nav.requestMediaKeySystemAccess(keySystem, [{
      initDataTypes: ['cenc'],
      videoCapabilities: [{ contentType: 'video/mp4; codecs="avc1.42E01E"' }],
      audioCapabilities: [{ contentType: 'audio/mp4; codecs="mp4a.40.2"' }],
      persistentState: 'required',
      sessionTypes: ['persistent-license'],
    }]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses (9009) a download whose config names only DRM systems other than ClearKey: this
 * release keeps ClearKey licences only, and the message says whether the browser could keep the
 * others at all. Content with a ClearKey entry, or with no drmData, passes (the worker checks
 * the manifest's ContentProtection itself).
 */
export async function checkDrmStorable(config: MediaConfig | undefined, entryId: string): Promise<void> {
  const systems = drmDataOf(config).map((d) => keySystemOf(d.scheme));
  if (systems.length === 0 || systems.includes('org.w3.clearkey')) return;
  const verdicts: string[] = [];
  for (const ks of [...new Set(systems)]) {
    const persistent = await supportsPersistentLicenses(ks);
    verdicts.push(persistent
      ? `${ks}: this browser has persistent-license sessions, but this release keeps only ClearKey licences offline`
      : `${ks}: this browser cannot keep its licences offline (no persistent-license session; in Chromium without a Widevine CDM, or any browser without that key system)`);
  }
  throw createError(
    ErrorCode.CONTENT_UNSUPPORTED_BY_BROWSER,
    `entry ${entryId} is protected with ${systems.join(', ')} and cannot be stored offline here: ${verdicts.join('; ')}. Play it online, or provide a ClearKey source`,
    { entryId, keySystems: systems },
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
