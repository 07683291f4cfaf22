import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../build/events.js';
import { KeepAlive } from '../build/keep-alive.js';
import { withTimeout } from '../build/timeout.js';

test('listeners get {type, payload: {detail}}; functions and handleEvent objects; removal works', () => {
  const em = new Emitter();
  const got = [];
  const fn = (e) => got.push(['fn', e]);
  const obj = { handleEvent: (e) => got.push(['obj', e.payload.detail.progress]) };
  em.add('progress', fn);
  em.add('progress', fn); // once only
  em.add('progress', obj);
  em.emit('progress', { entryId: 'a', progress: 5 });
  assert.deepEqual(got, [
    ['fn', { type: 'progress', payload: { detail: { entryId: 'a', progress: 5 } } }],
    ['obj', 5],
  ]);
  em.remove('progress', fn);
  em.emit('statechange', {});
  em.emit('progress', { progress: 6 });
  assert.deepEqual(got.at(-1), ['obj', 6]);
  assert.equal(got.length, 3);
  em.clear();
  assert.equal(em.count('progress'), 0);
});

test('a throwing listener does not stop the others; its exception is reported', () => {
  const em = new Emitter();
  const got = [];
  const reported = [];
  globalThis.reportError = (e) => reported.push(e);
  try {
    em.add('error', () => {
      throw new Error('listener bug');
    });
    em.add('error', (e) => got.push(e.payload.detail.code));
    em.emit('error', { code: 9011 });
  } finally {
    delete globalThis.reportError;
  }
  assert.deepEqual(got, [9011]);
  assert.equal(reported[0].message, 'listener bug');
});

test('keep-alive pings until the worker reports no active job', async () => {
  const answers = [1, 1, 0];
  let pings = 0;
  const ka = new KeepAlive(async () => ({ activeJobs: answers[pings++] }), 10);
  ka.start();
  ka.start(); // no second timer
  assert.equal(ka.running, true);
  while (ka.running) await new Promise((r) => setTimeout(r, 5));
  assert.equal(pings, 3);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(pings, 3, 'no ping after stop');
});

test('keep-alive: a ping in flight when start() is called again does not stop it', async () => {
  let release;
  const ka = new KeepAlive(() => new Promise((r) => (release = () => r({ activeJobs: 0 }))), 1e6);
  ka.start();
  const tick = ka.tick();
  ka.start(); // e.g. download() answered while the ping was in flight
  release();
  await tick;
  assert.equal(ka.running, true);
  ka.stop();
});

test('keep-alive stops after repeated ping failures, and interval 0 disables it', async () => {
  const ka = new KeepAlive(
    async () => {
      throw new Error('timeout');
    },
    1e6,
    2,
  );
  ka.start();
  await ka.tick();
  assert.equal(ka.running, true);
  await ka.tick();
  assert.equal(ka.running, false);
  for (const interval of [0, -1, Infinity, 1e12]) {
    const off = new KeepAlive(async () => ({ activeJobs: 1 }), interval);
    off.start();
    assert.equal(off.running, false, String(interval));
  }
});

test('withTimeout rejects with the given error, or settles like the promise', async () => {
  const err = { code: 9012 };
  await assert.rejects(
    withTimeout(new Promise(() => {}), 10, () => err),
    (e) => e === err,
  );
  assert.equal(await withTimeout(Promise.resolve(3), 1000, () => err), 3);
  await assert.rejects(
    withTimeout(Promise.reject(new Error('x')), 1000, () => err),
    /x/,
  );
  assert.equal(await withTimeout(Promise.resolve(4), 0, () => err), 4);
});
