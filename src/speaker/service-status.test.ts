// ServiceStatusWriter against the in-memory API server: it converges the objects of its
// node to what was last set, a few writes at a time, deletions first, and recovers from
// refused requests.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, MemoryAPI } from '../k8s/memory-api.test-support.ts';
import type { KubeClient } from '../k8s/client.ts';
import { metallbPath } from '../k8s/paths.ts';
import { silentLogger } from '../observability/logging.ts';
import { realClock } from '../time/clock.ts';
import { NODE_LABEL, STATUS_SERVICE_NAME_LABEL, ServiceStatusWriter, WRITES_IN_FLIGHT, type StatusEntry } from './service-status.ts';

const NS = 'metallb-system';
type StatusObject = { metadata: { name: string; labels: Record<string, string> }; status?: { node?: string; serviceName?: string; interfaces?: { name: string }[] } };

const entries = (from: number, to: number, ifname = 'eth0'): StatusEntry[] =>
  Array.from({ length: to - from }, (_, i) => ({ service: `default/svc-${from + i}`, detail: { interfaces: [{ name: ifname }] } }));

describe('ServiceStatusWriter', () => {
  let api: MemoryAPI;
  let client: KubeClient;
  let writer: ServiceStatusWriter;

  beforeEach(async () => {
    ({ api, client } = await MemoryAPI.start());
    writer = new ServiceStatusWriter('ServiceL2Status', client, NS, 'node-1', realClock, silentLogger);
  });

  afterEach(async () => {
    writer.stop();
    client.close();
    await api.stop();
  });

  const objects = () => api.list<StatusObject>(metallbPath('ServiceL2Status', NS));
  /** The services whose object has its status written, sorted. */
  const done = () => objects().filter((o) => o.status?.node === 'node-1').map((o) => o.metadata.labels[STATUS_SERVICE_NAME_LABEL]!).sort();
  const names = (list: StatusEntry[]) => list.map((e) => e.service.split('/')[1]!).sort();

  it('writes one object per service, labelled with its node and service, a few requests at a time', async () => {
    api.delayMs = 5;
    writer.set(entries(0, 40));
    await eventually('every status written', () => writer.settled && done().length === 40, 20_000);
    assert.deepEqual(done(), names(entries(0, 40)));
    for (const o of objects()) assert.equal(o.metadata.labels[NODE_LABEL], 'node-1');
    assert.ok(api.maxInFlight > 1, `writes in parallel (at most ${api.maxInFlight} at once)`);
    assert.ok(api.maxInFlight <= WRITES_IN_FLIGHT, `at most ${WRITES_IN_FLIGHT} at once, saw ${api.maxInFlight}`);
  });

  it('a new set during a pass: the objects it no longer wants go before the rest of the old pass is written', async () => {
    api.delayMs = 5;
    writer.set(entries(0, 20));
    await eventually('a few written', () => done().length >= 4, 10_000);
    const creates = () => api.requests.filter((r) => r.startsWith('POST')).length;
    writer.set(entries(100, 110));
    // The old pass stops launching: at most the writes in flight finish, then deletions.
    const before = creates();
    await eventually('converged to the new set', () => writer.settled && objects().length === 10 && done().length === 10, 20_000);
    assert.deepEqual(done(), names(entries(100, 110)));
    assert.ok(creates() - before <= 10 + WRITES_IN_FLIGHT, `${creates() - before} creations after the new set: the old pass went on`);
    const firstDelete = api.requests.findIndex((r) => r.startsWith('DELETE'));
    const firstNewCreate = api.requests.findIndex((r, i) => i > 0 && r.startsWith('POST') && api.requests.slice(0, i).some((x) => x.startsWith('DELETE')));
    assert.ok(firstDelete >= 0 && firstNewCreate > firstDelete, 'deletions before the new creations');
  });

  it('an updated detail is patched in place; refused requests are retried until it converges', async () => {
    writer.set(entries(0, 5));
    await eventually('written', () => writer.settled && done().length === 5);
    api.refusals.push({ method: 'PATCH', path: /servicel2statuses/, status: 500, times: 3 });
    writer.set(entries(0, 5, 'eth1'));
    await eventually('patched despite the refusals', () => writer.settled && objects().every((o) => o.status?.interfaces?.[0]?.name === 'eth1'), 20_000);
    assert.equal(objects().length, 5);
    assert.equal(api.refusals[0]!.times, 0, 'every refusal was met');
  });
});
