import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRequest, nextRequestId, sendRequest } from '../build/channel.js';

/** A target that records requests and answers with `answer(request, port)`. */
function target(answer) {
  const sent = [];
  return {
    sent,
    postMessage(message, transfer) {
      sent.push({ message, transfer });
      answer?.(message, transfer[0]);
    },
  };
}

test('a request carries v, a unique id, the type and the fields, and a port', async () => {
  const t = target((m, port) => port.postMessage({ id: m.id, ok: true, result: { activeJobs: 2 } }));
  const result = await sendRequest(t, 'ping', {}, 1000);
  assert.deepEqual(result, { activeJobs: 2 });
  const [{ message, transfer }] = t.sent;
  assert.equal(message.v, 1);
  assert.equal(message.type, 'ping');
  assert.equal(typeof message.id, 'number');
  assert.equal(transfer.length, 1);
  assert.equal(typeof transfer[0].postMessage, 'function');
  await sendRequest(t, 'ping', {}, 1000);
  assert.notEqual(t.sent[1].message.id, message.id);
});

test('buildRequest drops undefined fields and ids keep increasing', () => {
  assert.deepEqual(buildRequest('download', { entryId: 'a', options: undefined }, 7), { v: 1, id: 7, type: 'download', entryId: 'a' });
  const a = nextRequestId();
  assert.ok(nextRequestId() > a);
});

test('replies with another id are ignored; the matching one resolves', async () => {
  const t = target((m, port) => {
    port.postMessage({ id: m.id + 1000, ok: true, result: 'wrong' });
    port.postMessage({ hello: 'not a reply' });
    setTimeout(() => port.postMessage({ id: m.id, ok: true, result: 'right' }), 10);
  });
  assert.equal(await sendRequest(t, 'list', {}, 1000), 'right');
});

test('only the first matching reply counts', async () => {
  const t = target((m, port) => {
    port.postMessage({ id: m.id, ok: true, result: 1 });
    port.postMessage({ id: m.id, ok: true, result: 2 });
  });
  assert.equal(await sendRequest(t, 'list', {}, 1000), 1);
});

test("the worker's KalturaError is passed through unchanged", async () => {
  const error = { severity: 2, category: 9, code: 9013, data: { message: 'no entry x; call getMediaConfig first', entryId: 'x' } };
  const t = target((m, port) => port.postMessage({ id: m.id, ok: false, error }));
  await assert.rejects(sendRequest(t, 'get', { entryId: 'x' }, 1000), (e) => {
    assert.deepEqual(e, error);
    return true;
  });
});

test('an unreadable worker error becomes 9002 naming the request', async () => {
  const t = target((m, port) => port.postMessage({ id: m.id, ok: false, error: 'boom' }));
  await assert.rejects(sendRequest(t, 'pause', { entryId: 'x' }, 1000), (e) => {
    assert.equal(e.code, 9002);
    assert.equal(e.category, 9);
    assert.equal(e.data.entryId, 'x');
    assert.match(e.data.message, /"pause".*same release/);
    return true;
  });
});

test('no answer within the timeout rejects with 9002 (recoverable) telling to reload', async () => {
  const t = target(() => {});
  const started = Date.now();
  await assert.rejects(sendRequest(t, 'download', { entryId: 'e1', options: {} }, 60), (e) => {
    assert.equal(e.code, 9002);
    assert.equal(e.severity, 1);
    assert.equal(e.data.entryId, 'e1');
    assert.equal(e.data.timeoutMs, 60);
    assert.match(e.data.message, /did not answer "download" within 60 ms; reload the page/);
    return true;
  });
  assert.ok(Date.now() - started >= 55);
});

test('a late reply after the timeout is harmless', async () => {
  let late;
  const t = target((m, port) => (late = () => port.postMessage({ id: m.id, ok: true, result: 1 })));
  await assert.rejects(sendRequest(t, 'list', {}, 20), { code: 9002 });
  late(); // the port is closed: nothing happens, nothing throws
});

test('a postMessage that throws rejects with 9002', async () => {
  const t = {
    postMessage() {
      throw new Error('DataCloneError');
    },
  };
  await assert.rejects(sendRequest(t, 'list', {}, 1000), (e) => e.code === 9002 && /DataCloneError/.test(e.data.message));
});

test('concurrent requests each get their own reply', async () => {
  const t = target((m, port) => setTimeout(() => port.postMessage({ id: m.id, ok: true, result: m.entryId }), m.entryId === 'a' ? 30 : 5));
  const [a, b] = await Promise.all([sendRequest(t, 'get', { entryId: 'a' }, 1000), sendRequest(t, 'get', { entryId: 'b' }, 1000)]);
  assert.deepEqual([a, b], ['a', 'b']);
});
