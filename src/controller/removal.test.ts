import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deleteControllerDeployment, RemovalSignals, removeTraces } from './removal.ts';
import { ManualClock } from '../time/clock.ts';
import { ApiError, type KubeClient } from '../k8s/client.ts';

const ns = (meta: Record<string, unknown>) => ({ metadata: { name: 'metallb-system', ...meta } });
const deploy = (meta: Record<string, unknown>) => ({ metadata: { name: 'controller', namespace: 'metallb-system', uid: 'u1', ...meta } });

describe('RemovalSignals: a removal, never a restart', () => {
  it('the namespace: terminating or deleted is a removal; any other change is not', () => {
    const s = new RemovalSignals();
    assert.equal(s.namespace('add', ns({})), undefined);
    assert.equal(s.namespace('update', ns({ labels: { a: 'b' } })), undefined);
    assert.equal(s.namespace('update', ns({ deletionTimestamp: '2026-12-02T00:00:00Z' })), 'namespace metallb-system is terminating');
    assert.equal(s.namespace('delete', ns({})), 'namespace metallb-system deleted');
  });

  it('the Deployment: deleted (background) or being deleted (foreground) is a removal; an update (a rolling upgrade) is not', () => {
    const s = new RemovalSignals();
    assert.equal(s.deployment('add', deploy({})), undefined);
    assert.equal(s.deployment('update', deploy({ generation: 2 })), undefined);
    assert.equal(s.deployment('update', deploy({ deletionTimestamp: 'x', finalizers: ['foregroundDeletion'] })), 'Deployment metallb-system/controller is being deleted');
    assert.equal(new RemovalSignals().deployment('delete', deploy({})), 'Deployment metallb-system/controller deleted');
  });

  it('the Deployment deleted with --cascade=orphan (its pods stay, to be adopted by a new one) is no removal, through to its DELETED event', () => {
    const s = new RemovalSignals();
    assert.equal(s.deployment('update', deploy({ deletionTimestamp: 'x', finalizers: ['orphan'] })), undefined);
    assert.equal(s.deployment('delete', deploy({ deletionTimestamp: 'x' })), undefined);
    // Its successor (another uid) deleted for good is a removal again.
    assert.equal(s.deployment('delete', deploy({ uid: 'u2' })), 'Deployment metallb-system/controller deleted');
  });
});

describe('removeTraces', () => {
  function fakeClient(fail: (method: string, path: string) => ApiError | undefined) {
    const calls: string[] = [];
    const answer = (method: string, path: string, body?: unknown) => {
      calls.push(`${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
      const err = fail(method, path);
      return err ? Promise.reject(err) : Promise.resolve({});
    };
    const client = { mergePatch: (p: string, b: unknown) => answer('PATCH', p, b), delete: (p: string) => answer('DELETE', p) } as unknown as KubeClient;
    return { client, calls };
  }
  const traces = { namespace: 'metallb-system', services: [{ namespace: 'web', name: 'a' }], secrets: ['ferrolb-webhook-cert', 'ferrolb-memberlist'], lease: 'ferrolb-controller' };

  it('clears each Service\'s IPs and pool annotation and deletes the status objects, the Secrets and the Lease', async () => {
    const { client, calls } = fakeClient(() => undefined);
    assert.deepEqual(await removeTraces(client, traces), []);
    assert.deepEqual(calls, [
      'PATCH /api/v1/namespaces/web/services/a/status {"metadata":{"annotations":{"metallb.io/ip-allocated-from-pool":null}},"status":{"loadBalancer":{"ingress":null}}}',
      'DELETE /apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses',
      'DELETE /apis/metallb.io/v1beta1/namespaces/metallb-system/servicebgpstatuses',
      'DELETE /apis/metallb.io/v1beta1/namespaces/metallb-system/configurationstates',
      'DELETE /api/v1/namespaces/metallb-system/secrets/ferrolb-webhook-cert',
      'DELETE /api/v1/namespaces/metallb-system/secrets/ferrolb-memberlist',
      'DELETE /apis/coordination.k8s.io/v1/namespaces/metallb-system/leases/ferrolb-controller',
    ]);
  });

  it('deletes no Lease when election is off (MetalLB\'s manifests grant none)', async () => {
    const { client, calls } = fakeClient(() => undefined);
    const { lease: _none, ...withoutElection } = traces;
    assert.deepEqual(await removeTraces(client, withoutElection), []);
    assert.equal(calls.length, 6);
    assert.ok(!calls.some((c) => c.includes('leases')));
  });

  it('sends every request before any answer comes back, and names each that failed; already gone (404) is no failure', async () => {
    let sent = 0;
    let inFlightAtFirstAnswer = 0;
    const client = {
      mergePatch: () => {
        sent++;
        return new Promise((_, reject) => setTimeout(() => {
          inFlightAtFirstAnswer ||= sent;
          reject(new ApiError(403, 'Forbidden', 'PATCH: 403 forbidden'));
        }, 5));
      },
      delete: (p: string) => {
        sent++;
        return p.includes('secrets') ? Promise.reject(new ApiError(404, 'NotFound', 'gone')) : Promise.resolve({});
      },
    } as unknown as KubeClient;
    const failed = await removeTraces(client, traces);
    assert.equal(inFlightAtFirstAnswer, 7);
    assert.deepEqual(failed, ['Service web/a: Error: PATCH: 403 forbidden']);
  });
});

describe('deleteControllerDeployment (ferrolb controller --uninstall)', () => {
  const path = '/apis/apps/v1/namespaces/metallb-system/deployments/controller';
  const gone = () => Promise.reject(new ApiError(404, 'NotFound', 'gone'));

  it('deletes in the foreground and returns once the Deployment is gone', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    let gets = 0;
    const client = {
      delete: (p: string, o: unknown) => (calls.push(`DELETE ${p} ${JSON.stringify(o)}`), Promise.resolve({})),
      // Still there twice (its pods are stopping), then gone.
      get: (p: string) => (calls.push(`GET ${p}`), ++gets <= 2 ? Promise.resolve({}) : gone()),
    } as unknown as KubeClient;
    let done = false;
    const run = deleteControllerDeployment(client, 'metallb-system', 'controller', clock, 90_000).then(() => (done = true));
    for (let i = 0; i < 10 && !done; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(500);
    }
    await run;
    assert.deepEqual(calls, [`DELETE ${path} {"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Foreground"}`, `GET ${path}`, `GET ${path}`, `GET ${path}`]);
  });

  it('already gone is done; still there at the deadline is an error naming it', async () => {
    await deleteControllerDeployment({ delete: gone } as unknown as KubeClient, 'metallb-system', 'controller', new ManualClock(), 1000);
    const clock = new ManualClock();
    const stuck = { delete: () => Promise.resolve({}), get: () => Promise.resolve({}) } as unknown as KubeClient;
    const run = deleteControllerDeployment(stuck, 'metallb-system', 'controller', clock, 1000);
    let failed: unknown;
    run.catch((err: unknown) => (failed = err));
    for (let i = 0; i < 10 && failed === undefined; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(500);
    }
    await assert.rejects(run, /Deployment metallb-system\/controller still exists 1 s after its deletion/);
  });
});
