// The page shim and the Rust worker speak one protocol, defined in crates/engine/src/protocol/;
// the shim's types are generated from it (page-shim/src/generated/protocol.ts, checked current by
// `cargo test`). These tests hold the run-time side to it: every request the shim builds, with
// every field a command has, passes the worker's own validation (which refuses unknown fields),
// and what the shim never sends is refused.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRequest } from '../build/channel.js';
import { COMMAND_TYPES, PROTOCOL_VERSION } from '../build/protocol.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHECK = path.join(ROOT, 'target/debug/examples/protocol_check');

before(() => {
  execFileSync('cargo', ['build', '-q', '-p', 'engine', '--example', 'protocol_check'], { cwd: ROOT, stdio: 'inherit' });
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

const entryId = '0_abc';
const config = { sources: { dash: [{ url: 'https://cdn.example/m.mpd' }] } };
const options = {
  language: 'en',
  bitrate: 800000,
  audioLanguages: ['en'],
  textLanguages: ['fr'],
  videoHeight: 720,
  maxHeight: 1080,
  videoBitrate: 800000,
  thumbnails: false,
  codecs: ['avc1', 'mp4a'],
  redirectOrigins: ['https://cdn2.example'],
  concurrency: 4,
  background: true,
  playable: [{ mimeType: 'video/mp4', codecs: 'avc1.64001f' }],
};
const sessions = [{ keySystem: 'com.widevine.alpha', sessionId: 's1', initDataType: 'cenc', initData: 'AAAA', expiration: null }];

/** Each command with every field it has. */
const FULL = {
  prepare: { entryId, config },
  download: { entryId, options },
  pause: { entryId },
  resume: { entryId },
  remove: { entryId },
  pauseAll: {},
  removeAll: {},
  get: { entryId },
  list: {},
  listing: { since: '1764763200000-0.5.12' },
  ping: {},
  renew: { entryId, config },
  protection: { entryId, options },
  keepSessions: { entryId, sessions },
  backgroundPlan: { entryId },
  backgroundStarted: { entryId, started: ['offline-manager:0_abc:0'], refused: 'QuotaExceededError: Quota exceeded.' },
  verify: { entryId, repair: true },
};

test('every command the shim builds, with all its fields, passes the worker validation', () => {
  assert.deepEqual(Object.keys(FULL).sort(), [...COMMAND_TYPES].sort(), 'one sample per command type');
  const requests = COMMAND_TYPES.map((type, i) => buildRequest(type, FULL[type], i + 1));
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
