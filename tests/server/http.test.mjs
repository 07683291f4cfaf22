// Tests of the generic HTTP helpers (http.mjs). Run: node --test tests/server/

import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {parseRange} from './http.mjs';

describe('parseRange follows RFC 9110', () => {
  test('closed, open and suffix ranges; end clamped to the size', () => {
    assert.deepEqual(parseRange('bytes=10-19', 100), {start: 10, end: 19});
    assert.deepEqual(parseRange('bytes=90-500', 100), {start: 90, end: 99});
    assert.deepEqual(parseRange('bytes=50-', 100), {start: 50, end: 99});
    assert.deepEqual(parseRange('bytes=-10', 100), {start: 90, end: 99});
    assert.deepEqual(parseRange('bytes=-500', 100), {start: 0, end: 99});
  });

  test('unsatisfiable ranges and malformed headers are told apart', () => {
    assert.deepEqual(parseRange('bytes=100-', 100), {unsatisfiable: true});
    assert.deepEqual(parseRange('bytes=-0', 100), {unsatisfiable: true});
    for (const bad of ['bytes=abc', 'bytes=5-2', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-', '']) {
      assert.equal(parseRange(bad, 100), null, bad);
    }
    assert.equal(parseRange(undefined, 100), null);
  });
});
