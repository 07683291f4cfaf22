// The origin's storage as the browser manages it: whether it may evict this site's data (which
// deletes every download at once) under storage pressure.

type StorageManagerLike = { persist?: () => Promise<boolean>; persisted?: () => Promise<boolean> };

function storageManager(): StorageManagerLike | undefined {
  return (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage;
}

/**
 * Asks the browser to exempt this origin's storage from eviction. Best effort: browsers may
 * refuse or prompt, and the answer changes nothing here, so the promise is not awaited.
 */
export function requestPersistentStorage(): void {
  storageManager()
    ?.persist?.()
    .catch(() => undefined);
}

/**
 * Whether the browser keeps this origin's storage under pressure (`navigator.storage.persisted()`);
 * false where it cannot say (no StorageManager, or it refused to answer).
 */
export async function storagePersisted(): Promise<boolean> {
  try {
    return (await storageManager()?.persisted?.()) === true;
  } catch {
    return false;
  }
}
