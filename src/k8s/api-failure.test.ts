// apiFailure: every failed API request gets the runtime error code that logs and
// metrics name it by (docs/METRICS.md "Runtime error codes").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, apiFailure } from './client.ts';

test('an answer with an error status is EAPIREFUSED, with the status and reason', () => {
  assert.deepEqual(apiFailure(new ApiError(403, 'Forbidden', 'PATCH /api/v1/namespaces/a/services/b/status: forbidden')), {
    code: 'EAPIREFUSED', message: 'PATCH /api/v1/namespaces/a/services/b/status: forbidden', status: 403, reason: 'Forbidden',
  });
});

test('no answer (a system error, our timeout, a watch aborted) is EAPIUNREACHABLE', () => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']) {
    assert.equal(apiFailure(Object.assign(new Error('x'), { code })).code, 'EAPIUNREACHABLE', code);
  }
});

test('anything else thrown is a bug: EINTERNAL', () => {
  assert.deepEqual(apiFailure(new TypeError('cannot read properties of undefined')), { code: 'EINTERNAL', message: 'cannot read properties of undefined' });
  assert.deepEqual(apiFailure('a string'), { code: 'EINTERNAL', message: 'a string' });
});
