// The fault proxy itself: each fault as a plain HTTP client sees it, rule counting, matching,
// the request log, and that stop() ends stalled answers.

import {test, before, after, beforeEach} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import {startHttpServer, sendFile, resolveInside, rawPathOf} from './http.mjs';
import {startFaultProxy} from './fault-proxy.mjs';

const FILE = crypto.randomBytes(100_000);
let dir;
let upstream;
let proxy;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-proxy-'));
  fs.writeFileSync(path.join(dir, 'seg.m4s'), FILE);
  fs.writeFileSync(path.join(dir, 'other.m4s'), FILE.subarray(0, 1000));
  upstream = await startHttpServer(async (req, res) => {
    const file = resolveInside(dir, rawPathOf(req).slice(1));
    if (!file || !(await sendFile(req, res, file, {headers: {'Access-Control-Allow-Origin': '*'}}))) {
      res.writeHead(404);
      res.end();
    }
  });
  proxy = await startFaultProxy({target: upstream.url});
});
after(async () => {
  await proxy?.stop();
  await upstream?.stop();
  fs.rmSync(dir, {recursive: true, force: true});
});
beforeEach(() => {
  proxy.clearRules();
  proxy.resetLog();
});

/**
 * GET through the proxy. Resolves {status, headers, body, error}: `error` is set when the
 * response ended abnormally (body then holds what arrived). `idleMs` gives up on a silent
 * connection and reports {stalled: true}.
 */
function get(pathname, {range, idleMs} = {}) {
  return new Promise((resolve) => {
    const headers = range ? {Range: range} : {};
    const req = http.get(`${proxy.url}${pathname}`, {headers, agent: false}, (res) => {
      const chunks = [];
      let timer;
      const done = (extra) => {
        clearTimeout(timer);
        resolve({status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ...extra});
      };
      const arm = () => {
        if (!idleMs) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          done({stalled: true});
          req.destroy();
        }, idleMs);
      };
      arm();
      res.on('data', (c) => {
        chunks.push(c);
        arm();
      });
      res.on('end', () => done({error: res.complete ? null : 'incomplete'}));
      res.on('aborted', () => done({error: 'aborted'}));
      res.on('error', (e) => done({error: e.code ?? e.message}));
    });
    req.on('error', (e) => resolve({status: null, error: e.code ?? e.message}));
  });
}

test('without rules the proxy forwards the upstream answer byte for byte, Range included', async () => {
  const whole = await get('/seg.m4s');
  assert.equal(whole.status, 200);
  assert.ok(whole.body.equals(FILE));
  const part = await get('/seg.m4s', {range: 'bytes=10-19'});
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 10-19/${FILE.length}`);
  assert.ok(part.body.equals(FILE.subarray(10, 20)));
  assert.equal((await get('/missing.m4s')).status, 404);
});

test('status 500 twice then OK: the third request gets the file, and the rule counts two hits', async () => {
  const rule = proxy.addRule({match: 'seg.m4s', action: 'status', status: 500, times: 2});
  const answers = [await get('/seg.m4s'), await get('/seg.m4s'), await get('/seg.m4s')];
  assert.deepEqual(
    answers.map((a) => a.status),
    [500, 500, 200],
  );
  assert.equal(answers[0].headers['access-control-allow-origin'], '*');
  assert.ok(answers[2].body.equals(FILE));
  assert.equal(rule.hits, 2);
});

test('404 and 410 answers only for the URLs their rules match', async () => {
  proxy.addRule({match: /seg\.m4s$/, action: 'status', status: 404});
  proxy.addRule({match: (req) => req.url === '/other.m4s', action: 'status', status: 410});
  assert.equal((await get('/seg.m4s')).status, 404);
  assert.equal((await get('/seg.m4s')).status, 404);
  assert.equal((await get('/other.m4s')).status, 410);
  assert.equal((await get('/seg.m4s?x=1')).status, 200, 'the RegExp does not match with a query');
});

test('drop: the client gets the announced length, part of the body, then a broken connection', async () => {
  proxy.addRule({match: 'seg.m4s', action: 'drop', afterBytes: 30_000, times: 1});
  const broken = await get('/seg.m4s');
  assert.equal(broken.status, 200);
  assert.equal(Number(broken.headers['content-length']), FILE.length);
  assert.ok(broken.error, 'the response ends abnormally');
  assert.ok(broken.body.length <= 30_000, `${broken.body.length} bytes arrived`);
  assert.ok(broken.body.equals(FILE.subarray(0, broken.body.length)));
  assert.ok((await get('/seg.m4s')).body.equals(FILE), 'the rule is spent after one drop');
});

test('stall: headers and part of the body, then silence until stop or release', async () => {
  proxy.addRule({match: 'seg.m4s', action: 'stall', afterBytes: 5000, times: 1});
  const silent = await get('/seg.m4s', {idleMs: 700});
  assert.equal(silent.status, 200);
  assert.equal(silent.stalled, true, 'no end and no error while stalled');
  assert.ok(silent.body.equals(FILE.subarray(0, 5000)), `${silent.body.length} bytes arrived`);

  proxy.addRule({match: 'other.m4s', action: 'stall', afterBytes: 10, times: 1});
  const pending = get('/other.m4s');
  while (!proxy.requestsTo('other.m4s').length) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  proxy.releaseStalls();
  const released = await pending;
  assert.ok(released.error, 'a released stall ends as a broken response');
  assert.equal(released.body.length, 10);
});

test('length +k: more bytes announced than sent ends as a broken response', async () => {
  proxy.addRule({match: 'seg.m4s', action: 'length', lengthDelta: 1000, times: 1});
  const r = await get('/seg.m4s');
  assert.equal(Number(r.headers['content-length']), FILE.length + 1000);
  assert.ok(r.error, 'the body never reaches the announced length');
  assert.ok(r.body.equals(FILE));
});

test('length -k: fewer bytes announced than sent gives the client a body cut short', async () => {
  proxy.addRule({match: 'seg.m4s', action: 'length', lengthDelta: -1000, times: 1});
  const r = await get('/seg.m4s', {range: 'bytes=0-49999'});
  assert.equal(r.status, 206);
  assert.equal(Number(r.headers['content-length']), 49_000);
  assert.equal(r.body.length, 49_000);
  assert.ok(r.body.equals(FILE.subarray(0, 49_000)));
});

test('ignore-range: a Range request is answered 200 with the whole file', async () => {
  proxy.addRule({match: '.m4s', action: 'ignore-range'});
  const r = await get('/seg.m4s', {range: 'bytes=100-199'});
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-range'], undefined);
  assert.ok(r.body.equals(FILE));
});

test('delay holds the answer back at least delayMs and changes nothing else', async () => {
  proxy.addRule({match: 'seg.m4s', action: 'delay', delayMs: 400});
  const start = Date.now();
  const r = await get('/seg.m4s', {range: 'bytes=0-9'});
  assert.ok(Date.now() - start >= 390, `answered after ${Date.now() - start} ms`);
  assert.equal(r.status, 206);
  assert.ok(r.body.equals(FILE.subarray(0, 10)));
});

test('the log records method, URL, Range and the fault applied, in arrival order', async () => {
  proxy.addRule({match: 'other.m4s', action: 'status', status: 500, times: 1});
  await get('/seg.m4s', {range: 'bytes=0-9'});
  await get('/other.m4s');
  await get('/other.m4s');
  assert.deepEqual(
    proxy.requests.map(({method, url, range, action}) => ({method, url, range, action})),
    [
      {method: 'GET', url: '/seg.m4s', range: 'bytes=0-9', action: null},
      {method: 'GET', url: '/other.m4s', range: null, action: 'status'},
      {method: 'GET', url: '/other.m4s', range: null, action: null},
    ],
  );
  assert.equal(proxy.requestsTo('other.m4s', {faulted: true}).length, 1);
  assert.equal(proxy.requestsTo('other.m4s', {faulted: false}).length, 1);
});

test('the log records when each answer ended and whether it went out whole', async () => {
  proxy.addRule({match: 'seg.m4s', action: 'drop', afterBytes: 30_000, times: 1});
  await get('/seg.m4s');
  await get('/other.m4s');
  for (let i = 0; i < 50 && proxy.requests.some((r) => r.endedAt === null); i++) await new Promise((r) => setTimeout(r, 10));
  const [cut, whole] = proxy.requests;
  assert.equal(cut.whole, false, 'a dropped answer is not whole');
  assert.equal(whole.whole, true);
  for (const r of [cut, whole]) assert.ok(r.endedAt >= r.at, JSON.stringify(r));
});

test('an unknown action or a rule missing its parameter is refused at once', () => {
  assert.throws(() => proxy.addRule({match: 'x', action: 'explode'}), /unknown action/);
  assert.throws(() => proxy.addRule({match: 'x', action: 'status'}), /status/);
  assert.throws(() => proxy.addRule({match: 'x', action: 'length'}), /lengthDelta/);
});

test('stop ends a stalled answer and nothing answers afterwards', async () => {
  const own = await startFaultProxy({target: () => upstream.url});
  own.addRule({match: 'seg.m4s', action: 'stall', afterBytes: 100});
  const pending = new Promise((resolve) => {
    const req = http.get(`${own.url}/seg.m4s`, {agent: false}, (res) => {
      res.once('data', () => own.stop());
      res.on('end', () => resolve(res.complete ? 'complete' : 'incomplete'));
      res.on('aborted', () => resolve('aborted'));
      res.on('error', () => resolve('error'));
    });
    req.on('error', () => resolve('error'));
  });
  assert.notEqual(await pending, 'complete');
  const after = await new Promise((resolve) => {
    http.get(`${own.url}/seg.m4s`, {agent: false}, () => resolve('answered')).on('error', () => resolve('refused'));
  });
  assert.equal(after, 'refused');
});
