import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder, FAILURE_REASON } from './events.ts';
import type { KubeClient } from './client.ts';
import { ManualClock } from '../time/clock.ts';
import { runtimeErrorCode } from '../observability/errors.ts';

describe('EventRecorder', () => {
  it('a runtime failure is a Warning whose message starts with its code, which reads back; a repeat bumps the count', async () => {
    const created: { reason: string; type: string; message: string }[] = [];
    const bumped: unknown[] = [];
    const client = {
      create: async (_path: string, body: { reason: string; type: string; message: string }) => (created.push(body), { metadata: { name: 'web.1' } }),
      mergePatch: async (_path: string, body: unknown) => void bumped.push(body),
    } as unknown as KubeClient;
    const events = new EventRecorder(client, { component: 'ferrolb-controller', instance: 'c1', clock: new ManualClock() });
    const svc = { apiVersion: 'v1', kind: 'Service', namespace: 'web', name: 'a' };
    const failure = { code: 'EAPIREFUSED', message: 'PATCH /api/v1/namespaces/web/services/a/status: 403 forbidden', status: 403, reason: 'Forbidden' } as const;
    // The retry comes after the first write (the work queue's backoff).
    events.recordFailure(svc, FAILURE_REASON.writeFailed, failure, 'the assignment was not written');
    await events.flush();
    events.recordFailure(svc, FAILURE_REASON.writeFailed, failure, 'the assignment was not written');
    await events.flush();
    assert.deepEqual(created.map((e) => [e.type, e.reason, e.message]), [['Warning', 'WriteFailed', 'EAPIREFUSED: the assignment was not written: PATCH /api/v1/namespaces/web/services/a/status: 403 forbidden']]);
    assert.equal(runtimeErrorCode(created[0]!.message), 'EAPIREFUSED');
    assert.equal(bumped.length, 1);
    // Only a known code at the very start counts.
    assert.equal(runtimeErrorCode('ENOTACODE: x'), undefined);
    assert.equal(runtimeErrorCode('the EAPIREFUSED: x'), undefined);
  });
});
