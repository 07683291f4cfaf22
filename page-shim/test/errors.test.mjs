import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createError, ErrorCode, isKalturaError, Severity, STORAGE_CATEGORY, toKalturaError } from '../build/errors.js';

test('createError builds the Kaltura shape with message first and no undefined fields', () => {
  const e = createError(ErrorCode.ENTRY_DOES_NOT_EXIST, 'no entry x; call getMediaConfig first', { entryId: 'x', extra: undefined });
  assert.deepEqual(e, { severity: 2, category: 9, code: 9013, data: { message: 'no entry x; call getMediaConfig first', entryId: 'x' } });
  assert.equal(createError(9002, 'm', {}, Severity.RECOVERABLE).severity, 1);
  assert.equal(createError(9002, 'm', { message: 'other' }).data.message, 'm');
  assert.equal(STORAGE_CATEGORY, 9);
});

test('the codes are Playkit category 9 codes', () => {
  assert.equal(ErrorCode.STORAGE_NOT_SUPPORTED, 9000);
  assert.equal(ErrorCode.OPERATION_ABORTED, 9002);
  assert.equal(ErrorCode.CONTENT_UNSUPPORTED_BY_BROWSER, 9009);
  assert.equal(ErrorCode.COULD_NOT_GET_INFO_FROM_MEDIA_PROVIDER, 9012);
  assert.equal(ErrorCode.RENEW_LICENSE_FAILED, 9016);
  assert.equal(ErrorCode.REMOVE_FAILED, 9018);
  const values = Object.values(ErrorCode);
  assert.deepEqual(
    values,
    Array.from({ length: 19 }, (_, i) => 9000 + i),
  );
});

test('isKalturaError accepts the worker shape and refuses others', () => {
  assert.ok(isKalturaError({ severity: 1, category: 9, code: 9011, data: { message: 'disk full', entryId: 'a' } }));
  assert.ok(!isKalturaError(null));
  assert.ok(!isKalturaError(new Error('x')));
  assert.ok(!isKalturaError({ severity: 2, category: 7, code: 7000, data: { message: 'm' } }));
  assert.ok(!isKalturaError({ severity: 2, category: 9, code: 9000, data: {} }));
  assert.ok(!isKalturaError({ severity: 3, category: 9, code: 9000, data: { message: 'm' } }));
});

test('toKalturaError passes KalturaErrors through and wraps anything else with a hint', () => {
  const k = createError(9013, 'm');
  assert.equal(toKalturaError(k), k);
  const wrapped = toKalturaError(new TypeError('boom'));
  assert.equal(wrapped.code, 9002);
  assert.match(wrapped.data.message, /boom.*reload the page/);
  assert.ok(wrapped.data.cause instanceof TypeError);
  assert.equal(toKalturaError('x', 9001, 'ctx').code, 9001);
});
