// Page and worker of different releases: a refusal from a worker that speaks another protocol
// version (its reply's `v`) rejects with a 9002 naming both versions and what to do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protocolMismatch, sendRequest, SHIM_VERSION } from '../build/channel.js';
import { OfflineManager } from '../build/offline-manager.js';
import { PROTOCOL_VERSION } from '../build/protocol.js';

function target(answer) {
  return {
    postMessage(message, transfer) {
      answer(message, transfer[0]);
    },
  };
}

test('a refusal from a worker of another protocol is a 9002 naming both versions', async () => {
  const t = target((m, port) =>
    port.postMessage({
      id: m.id,
      ok: false,
      v: PROTOCOL_VERSION + 1,
      workerVersion: '9.9.9',
      error: { severity: 2, category: 9, code: 9002, data: { message: 'whatever the worker says' } },
    }),
  );
  await assert.rejects(sendRequest(t, 'list', {}, 1000), (e) => {
    assert.equal(e.category, 9);
    assert.equal(e.code, 9002);
    assert.equal(e.severity, 2);
    assert.equal(e.data.pageProtocol, PROTOCOL_VERSION);
    assert.equal(e.data.workerProtocol, PROTOCOL_VERSION + 1);
    assert.equal(e.data.workerVersion, '9.9.9');
    assert.equal(e.data.pageVersion, SHIM_VERSION);
    assert.match(e.data.message, new RegExp(`protocol ${PROTOCOL_VERSION}\\b.*protocol ${PROTOCOL_VERSION + 1}\\b`));
    assert.match(e.data.message, /package 9\.9\.9/);
    assert.match(e.data.message, /reload the page/);
    assert.match(e.data.message, /same package version/);
    return true;
  });
});

test('replies of a worker of the same protocol pass through unchanged', async () => {
  const ok = target((m, port) => port.postMessage({ id: m.id, ok: true, v: PROTOCOL_VERSION, workerVersion: '0.0.1', result: { activeJobs: 0 } }));
  assert.deepEqual(await sendRequest(ok, 'ping', {}, 1000), { activeJobs: 0 });
  const error = { severity: 2, category: 9, code: 9013, data: { message: 'no such entry' } };
  const refused = target((m, port) => port.postMessage({ id: m.id, ok: false, v: PROTOCOL_VERSION, error }));
  await assert.rejects(sendRequest(refused, 'pause', { entryId: 'x' }, 1000), (e) => e === error || e.code === 9013);
  assert.equal(protocolMismatch({ id: 1, ok: false }, 'list'), null, 'a reply without v (older worker) is taken as it is');
});

test('the shim reports its package version', () => {
  assert.equal(typeof OfflineManager.version, 'string');
  assert.equal(OfflineManager.version, SHIM_VERSION);
});
