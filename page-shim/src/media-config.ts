// The media config: what the Kaltura provider returns and `player.setMedia` takes. The worker
// keeps it as opaque JSON; only the page reads its fields, so its shape is defined here.

/** A JSON object (what crosses the channel as a media config). */
export type JsonObject = { [key: string]: unknown };

/** A DRM entry of a DASH source, as the Kaltura provider gives it. */
export interface DrmData {
  licenseUrl: string;
  scheme: string;
  [key: string]: unknown;
}

/** A DASH source of a media config. */
export interface DashSource {
  id?: string;
  url: string;
  mimetype?: string;
  drmData?: DrmData[];
  [key: string]: unknown;
}

/** `sources` of a media config; only `dash` can be stored offline. */
export interface MediaSources {
  dash?: DashSource[];
  hls?: unknown[];
  progressive?: unknown[];
  [key: string]: unknown;
}

/** A media config: what the Kaltura provider returns and `player.setMedia` takes. */
export interface MediaConfig {
  id?: string;
  sources: MediaSources;
  session?: { isAnonymous?: boolean; partnerId?: number; ks?: string; [key: string]: unknown };
  duration?: number;
  type?: string;
  poster?: string;
  metadata?: { name?: string; description?: string; [key: string]: unknown };
  captions?: unknown[];
  plugins?: JsonObject;
  [key: string]: unknown;
}
