// The page shim and the Rust worker speak one protocol, defined in crates/engine/src/protocol.rs
// and mirrored in page-shim/src/protocol.ts. These tests hold the mirror to the original: the
// field names the worker sends must be the ones the shim reads, and every request the shim can
// build must pass the worker's own validation (which refuses unknown fields).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_FIELDS, PROTOCOL_VERSION } from '../build/protocol.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHECK = path.join(ROOT, 'target/debug/examples/protocol_check');
let rust;

before(() => {
  execFileSync('cargo', ['build', '-q', '-p', 'engine', '--example', 'protocol_check'], { cwd: ROOT, stdio: 'inherit' });
  rust = JSON.parse(execFileSync(CHECK, ['--shapes']).toString());
});

/** The worker's verdict on each request, in order. */
function judge(requests) {
  const out = execFileSync(CHECK, { input: `${requests.map((r) => JSON.stringify(r)).join('\n')}\n` });
  return out
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

const sorted = (a) => [...a].sort();

test('entry summaries carry the fields the shim reads', () => {
  assert.deepEqual(sorted(PROTOCOL_FIELDS.summary), sorted(rust.summary));
});

test('progress and statechange events carry the fields the shim reads', () => {
  assert.deepEqual(sorted(PROTOCOL_FIELDS.progress), sorted(rust.progress));
  assert.deepEqual(sorted(PROTOCOL_FIELDS.statechange), sorted(rust.statechange));
});

test('states and stop reasons have the same names on both sides', () => {
  assert.deepEqual(PROTOCOL_FIELDS.states, rust.states);
  assert.deepEqual(PROTOCOL_FIELDS.stopReasons, rust.stopReasons);
});

test('every download option of the shim is one the worker understands', () => {
  assert.deepEqual(sorted(PROTOCOL_FIELDS.downloadOptions), sorted(rust.downloadOptions));
});

const SAMPLE = {
  entryId: '0_abc',
  config: { sources: { dash: [{ url: 'https://cdn.example/m.mpd' }] } },
  options: {
    language: 'en',
    bitrate: 800000,
    audioLanguages: ['en'],
    textLanguages: ['fr'],
    videoHeight: 720,
    maxHeight: 1080,
    videoBitrate: 800000,
    thumbnails: false,
    codecs: ['avc1', 'mp4a'],
  },
  sessions: [{ keySystem: 'com.widevine.alpha', sessionId: 's1', initDataType: 'cenc', initData: 'AAAA', expiration: null }],
};

test('every command the shim sends, with all its fields, passes the worker validation', () => {
  const requests = Object.entries(PROTOCOL_FIELDS.commands).map(([type, fields], i) => {
    const request = { v: PROTOCOL_VERSION, id: i + 1, type };
    for (const f of fields) request[f] = SAMPLE[f];
    return request;
  });
  const verdicts = judge(requests);
  for (const [i, r] of requests.entries()) assert.deepEqual(verdicts[i], { ok: true }, `${r.type}: ${verdicts[i].message}`);
});

test('the worker refuses what the shim never sends: unknown types, unknown fields, other versions', () => {
  const verdicts = judge([
    { v: PROTOCOL_VERSION, id: 1, type: 'format' },
    { v: PROTOCOL_VERSION, id: 2, type: 'pause', entryId: 'a', extra: true },
    { v: PROTOCOL_VERSION + 1, id: 3, type: 'list' },
    { v: PROTOCOL_VERSION, id: 4, type: 'download', entryId: 'a', options: { quality: 'hd' } },
  ]);
  for (const v of verdicts) assert.equal(v.ok, false, JSON.stringify(v));
});
