// ESM entry: the OfflineManager, its helpers and every type of its API.

import { setShimBaseUrl } from './offline-manager.js';

setShimBaseUrl(import.meta.url);

export { OfflineManager, DEFAULTS } from './offline-manager.js';
export type {
  OfflineManagerConfig,
  MediaInfo,
  PlainMediaInfo,
  LocalDashSource,
  DownloadedMediaConfig,
  PlaybackOptions,
  DownloadItem,
  OfflineManagerEvent,
  OfflineManagerListener,
} from './offline-manager.js';
export type { ProviderConfig, EntryMediaInfo } from './provider.js';
export { ErrorCode, Severity, STORAGE_CATEGORY, createError, isKalturaError } from './errors.js';
export type { KalturaError, KalturaErrorData, ErrorCodeName, ErrorCodeValue, SeverityValue } from './errors.js';
export { PROTOCOL_VERSION } from './protocol.js';
export type {
  EntryState,
  StopReason,
  DownloadMode,
  JsonObject,
  DrmData,
  DashSource,
  MediaSources,
  MediaConfig,
  DownloadOptions,
  PlanOptions,
  MediaType,
  EntrySummary,
  EntryDetail,
  PersistentSession,
  ProtectionInfo,
  Commands,
  CommandType,
  CommandFields,
  CommandResult,
  RequestMessage,
  ReplyMessage,
  ProgressDetail,
  StateChangeDetail,
  OfflineEventMap,
  OfflineEventType,
  WorkerEventMessage,
  Verified,
} from './protocol.js';
export type { OfflineEvent, Listener } from './events.js';
export { appendQuery, deriveEntryId } from './url.js';
export { base64ToBytes } from './persistent-sessions.js';
