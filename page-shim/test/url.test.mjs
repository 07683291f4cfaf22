import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendQuery, deriveEntryId, directoryOf, hash32 } from '../build/url.js';

const Q = 'playbackType=offline';

test('appendQuery adds ? to a URL without a query', () => {
  assert.equal(appendQuery('https://cdn.example/a/manifest.mpd', Q), 'https://cdn.example/a/manifest.mpd?playbackType=offline');
  assert.equal(appendQuery('manifest.mpd', Q), 'manifest.mpd?playbackType=offline');
});

test('appendQuery adds & to a URL that has a query', () => {
  assert.equal(appendQuery('https://x/a.mpd?ks=abc', Q), 'https://x/a.mpd?ks=abc&playbackType=offline');
  assert.equal(appendQuery('https://x/a.mpd?', Q), 'https://x/a.mpd?playbackType=offline');
  assert.equal(appendQuery('https://x/a.mpd?a=1&', Q), 'https://x/a.mpd?a=1&playbackType=offline');
});

test('appendQuery keeps the fragment last, and a ? inside the fragment is not a query', () => {
  assert.equal(appendQuery('https://x/a.mpd#t=10', Q), 'https://x/a.mpd?playbackType=offline#t=10');
  assert.equal(appendQuery('https://x/a.mpd?ks=1#t=10', Q), 'https://x/a.mpd?ks=1&playbackType=offline#t=10');
  assert.equal(appendQuery('https://x/a.mpd#frag?x=1', Q), 'https://x/a.mpd?playbackType=offline#frag?x=1');
  assert.equal(appendQuery('https://x/a.mpd#', Q), 'https://x/a.mpd?playbackType=offline#');
});

test('appendQuery ignores a leading ? or & in the query and an empty query', () => {
  assert.equal(appendQuery('a.mpd', '?x=1'), 'a.mpd?x=1');
  assert.equal(appendQuery('a.mpd?k=v', '&x=1&y=2'), 'a.mpd?k=v&x=1&y=2');
  assert.equal(appendQuery('a.mpd?k=v#h', ''), 'a.mpd?k=v#h');
  assert.equal(appendQuery('a.mpd', '?'), 'a.mpd');
});

test('appendQuery does not re-encode anything', () => {
  assert.equal(appendQuery('https://x/p%20q/a b.mpd?t=%2F', Q), 'https://x/p%20q/a b.mpd?t=%2F&playbackType=offline');
});

test('deriveEntryId is stable, readable, valid and ignores the fragment', () => {
  const a = deriveEntryId('https://cdn.example/videos/big-buck/manifest.mpd');
  assert.match(a, /^big-buck_manifest-[0-9a-f]{8}$/);
  assert.equal(deriveEntryId('https://cdn.example/videos/big-buck/manifest.mpd#t=1'), a);
  assert.notEqual(deriveEntryId('https://cdn.example/videos/other/manifest.mpd'), a);
  assert.notEqual(deriveEntryId('https://cdn.example/videos/big-buck/manifest.mpd?v=2'), a);
  assert.match(deriveEntryId('https://cdn.example/'), /^stream-[0-9a-f]{8}$/);
  assert.ok(deriveEntryId(`https://x/${'a'.repeat(500)}/b.mpd`).length <= 60);
  assert.match(deriveEntryId('https://x/é ü/a.mpd'), /^[A-Za-z0-9_-]+$/);
});

test('hash32 is FNV-1a', () => {
  assert.equal(hash32(''), '811c9dc5');
  assert.equal(hash32('a'), 'e40c292c');
});

test('directoryOf gives the default scope', () => {
  assert.equal(directoryOf('https://x/app/offline-manager-sw.js'), 'https://x/app/');
  assert.equal(directoryOf('https://x/sw.js?v=1'), 'https://x/');
});
