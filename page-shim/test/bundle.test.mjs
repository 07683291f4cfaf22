// The built bundles (run `node page-shim/build.mjs` first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const dist = new URL('../../dist/', import.meta.url);

test('the ESM bundle exports the API', async () => {
  const mod = await import(new URL('offline-manager.js', dist));
  assert.equal(typeof mod.OfflineManager, 'function');
  assert.equal(mod.appendQuery('a.mpd?x=1#h', 'playbackType=offline'), 'a.mpd?x=1&playbackType=offline#h');
  assert.equal(mod.ErrorCode.ENTRY_DOES_NOT_EXIST, 9013);
  assert.equal(mod.PROTOCOL_VERSION, 1);
  assert.equal(mod.isKalturaError(mod.createError(9000, 'm')), true);
  for (const name of [
    'download',
    'pause',
    'resume',
    'remove',
    'pauseAll',
    'removeAll',
    'getMediaConfig',
    'getDownloadedMediaConfig',
    'getAllDownloads',
    'getExpiration',
    'renewLicense',
    'addEventListener',
    'removeEventListener',
    'destroy',
  ]) {
    assert.equal(typeof mod.OfflineManager.prototype[name], 'function', name);
  }
});

test('the declaration entry re-exports the types', () => {
  const dts = readFileSync(new URL('offline-manager.d.ts', dist), 'utf8');
  assert.match(dts, /export \* from '\.\/types\/index\.js'/);
  const index = readFileSync(new URL('types/index.d.ts', dist), 'utf8');
  for (const name of [
    'OfflineManager',
    'EntrySummary',
    'KalturaError',
    'OfflineManagerConfig',
    'DownloadOptions',
    'ProgressDetail',
    'StateChangeDetail',
    'OfflineEventMap',
  ]) {
    assert.match(index, new RegExp(`\\b${name}\\b`), name);
  }
});

const iife = () => readFileSync(new URL('kaltura-offline-manager.js', dist), 'utf8');

test('the plain script adds OfflineManager to an existing KalturaPlayer and to window', () => {
  const KalturaPlayer = { VERSION: '3.17.95', providers: {} };
  const ctx = vm.createContext({ KalturaPlayer, setTimeout, clearTimeout, setInterval, clearInterval });
  vm.runInContext(iife(), ctx);
  assert.equal(ctx.KalturaPlayer, KalturaPlayer, 'the player object is kept');
  assert.equal(typeof KalturaPlayer.OfflineManager, 'function');
  assert.equal(ctx.OfflineManager, KalturaPlayer.OfflineManager);
  assert.equal(KalturaPlayer.VERSION, '3.17.95');
});

test('the plain script creates KalturaPlayer only when absent', () => {
  const ctx = vm.createContext({ setTimeout, clearTimeout, setInterval, clearInterval });
  vm.runInContext(iife(), ctx);
  assert.equal(typeof ctx.KalturaPlayer.OfflineManager, 'function');
  assert.deepEqual(Object.keys(ctx.KalturaPlayer), ['OfflineManager']);
});
