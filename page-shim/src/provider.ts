// The Kaltura provider adapter: `new KalturaPlayer.providers.Provider(config, KalturaPlayer.VERSION)
// .getMediaConfig({entryId, ks})`, bounded in time (the provider hangs instead of failing on an
// HTTP 500 or an unknown entry). The Kaltura Player script is looked up when called, so it may be
// loaded before or after this shim.

import { createError, describe, ErrorCode, Severity } from './errors.js';
import type { MediaConfig } from './protocol.js';
import { withTimeout } from './timeout.js';

/** The `provider` part of the OfflineManager config (as for `KalturaPlayer.setup`). */
export interface ProviderConfig {
  partnerId: number;
  ks?: string;
  env?: { serviceUrl: string; cdnUrl?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** What the provider is asked for: an entry id, an optional ks, and any provider-specific fields. */
export interface EntryMediaInfo {
  entryId: string;
  ks?: string;
  [key: string]: unknown;
}

interface ProviderInstance {
  getMediaConfig(mediaInfo: Record<string, unknown>): Promise<unknown>;
}
type ProviderConstructor = new (options: Record<string, unknown>, playerVersion?: string) => ProviderInstance;
interface KalturaPlayerGlobal {
  VERSION?: string;
  providers?: { Provider?: ProviderConstructor };
}

function kalturaPlayer(): KalturaPlayerGlobal | undefined {
  return (globalThis as { KalturaPlayer?: KalturaPlayerGlobal }).KalturaPlayer;
}

/** Gets an entry's media config from the Kaltura provider, or rejects with 9012. */
export async function getProviderMediaConfig(provider: ProviderConfig | undefined, mediaInfo: EntryMediaInfo, timeoutMs: number): Promise<MediaConfig> {
  const { entryId } = mediaInfo;
  const kp = kalturaPlayer();
  const Provider = kp?.providers?.Provider;
  if (typeof Provider !== 'function') {
    throw createError(
      ErrorCode.COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER,
      `cannot get entry ${entryId}: the Kaltura provider (KalturaPlayer.providers.Provider) is missing; load the Kaltura Player script before calling getMediaConfig, or pass a plain media config ({entryId, sources: {dash: [{url}]}})`,
      { entryId },
    );
  }
  if (!provider || typeof provider !== 'object' || provider.partnerId === undefined) {
    throw createError(
      ErrorCode.COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER,
      `cannot get entry ${entryId}: the OfflineManager has no provider config; create it with {provider: {partnerId, env: {serviceUrl}}}, or pass a plain media config ({entryId, sources: {dash: [{url}]}})`,
      { entryId },
    );
  }
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(mediaInfo)) if (value !== undefined) request[key] = value;

  const failed = (cause: unknown): never => {
    throw createError(
      ErrorCode.COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER,
      `the Kaltura provider could not get entry ${entryId} (${describe(cause)}); check the entry id, partnerId, ks and env.serviceUrl`,
      { entryId, cause },
    );
  };
  let pending: Promise<unknown>;
  try {
    pending = Promise.resolve(new Provider({ ...provider }, kp?.VERSION).getMediaConfig(request));
  } catch (e) {
    return failed(e);
  }
  const timedOut = createError(
    ErrorCode.COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER,
    `the Kaltura provider did not answer within ${timeoutMs} ms for entry ${entryId} (it hangs on server errors and unknown entries); check the entry id, partnerId, ks, env.serviceUrl and the network, then try again`,
    { entryId, timeoutMs },
    Severity.RECOVERABLE,
  );
  const config = await withTimeout(pending, timeoutMs, () => timedOut).catch((e: unknown) => {
    if (e === timedOut) throw e;
    return failed(e);
  });
  if (typeof config !== 'object' || config === null || typeof (config as { sources?: unknown }).sources !== 'object') {
    return failed(`it returned no media config with sources: ${describe(config)}`);
  }
  return config as MediaConfig;
}
