// Plain-script entry (dist/kaltura-offline-manager.js): `KalturaPlayer.OfflineManager` and
// `window.OfflineManager`. Load it after the Kaltura Player script: the player's bundle assigns
// `window.KalturaPlayer` and would replace the object created here if loaded later.

import { OfflineManager, setShimBaseUrl } from './offline-manager.js';

const script = (globalThis as { document?: { currentScript?: { src?: string } | null } }).document?.currentScript;
setShimBaseUrl(script?.src || undefined);

type Global = { KalturaPlayer?: Record<string, unknown>; OfflineManager?: typeof OfflineManager };

const root = globalThis as unknown as Global;
const existing: unknown = root.KalturaPlayer;
if (existing === null || (typeof existing !== 'object' && typeof existing !== 'function')) root.KalturaPlayer = {};
(root.KalturaPlayer as Record<string, unknown>).OfflineManager = OfflineManager;
root.OfflineManager = OfflineManager;
