// The Speaker below the lab: the real KubeClient, informers, ConfigSource, membership
// (UDP on 127.0.0.1) and L2Responder against an API server in memory, with the
// responder's links and packet sockets in memory, so the wiring from objects to frames
// and status objects is tested in well under a second per case; test/speaker/ runs it on
// the lab's network with real sockets and real clients.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { silentLogger } from '../observability/logging.ts';
import { eventually, MemoryAPI } from '../k8s/memory-api.test-support.ts';
import type { KubeClient } from '../k8s/client.ts';
import { realClock } from '../time/clock.ts';
import { SpeakerMetrics } from '../observability/metrics.ts';
import { COLLECTION, metallbPath, servicePath } from '../k8s/paths.ts';
import { EXCLUDE_FROM_LB_LABEL } from '../api/cluster-view.ts';
import { arpRequest, parseFrame, type L2Message } from './l2/frames.ts';
import type { Link } from './l2/interfaces.ts';
import { Speaker } from './speaker.ts';
import { STATUS_SERVICE_NAME_LABEL } from './service-status.ts';

const NS = 'metallb-system';
const NODE = 'node-1';
const ETH0: Link = { name: 'eth0', mac: '02:00:00:00:00:01', flags: 0x1003, type: 1 };
const CLIENT_MAC = '02:00:00:00:00:aa';
const VIP = '198.18.10.1';

interface Conditions {
  status?: { conditions?: { type: string; status: string; message: string }[] };
}


function node(labels: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE, ...labels } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } };
}

function scene(api: MemoryAPI): void {
  api.put(COLLECTION.nodes, node());
  api.put(metallbPath('IPAddressPool', NS), { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lan', namespace: NS }, spec: { addresses: ['198.18.10.0/30'] } });
  api.put(metallbPath('L2Advertisement', NS), { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'lan', namespace: NS }, spec: { ipAddressPools: ['lan'] } });
  api.put('/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', annotations: { 'metallb.io/ip-allocated-from-pool': 'lan' } },
    spec: { type: 'LoadBalancer', clusterIP: '198.18.128.10', ports: [{ port: 80, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: VIP }] } },
  });
  api.put('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.18.64.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: NODE }],
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
  });
}

/** A UDP port free on 127.0.0.1 just now (membership needs a real one: peers are sent to it). */
async function freeUDPPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('Speaker against an API server in memory', () => {
  let api: MemoryAPI;
  let client: KubeClient;
  let speaker: Speaker | undefined;
  let sent: L2Message[];
  let deliver: ((frame: Buffer) => void) | undefined;

  beforeEach(async () => {
    ({ api, client } = await MemoryAPI.start());
    sent = [];
    deliver = undefined;
    scene(api);
    speaker = new Speaker(client, {
      node: NODE,
      namespace: NS,
      clock: realClock,
      log: silentLogger,
      metrics: new SpeakerMetrics(),
      // An IPv4 bind address, as MetalLB's manifests give (METALLB_ML_BIND_ADDR).
      membership: { port: await freeUDPPort(), bindAddress: '127.0.0.1' },
      responder: {
        readLinks: () => [ETH0],
        openSocket: (_ifname, onFrame) => {
          deliver = onFrame;
          return { send: (frame) => void sent.push(parseFrame(frame)), close: () => (deliver = undefined) };
        },
      },
      bgpDrainMs: 0,
    });
    await speaker.start();
  });

  afterEach(async () => {
    await speaker?.stop();
    client.close();
    await api.stop();
  });

  const replies = () => sent.filter((m) => m.type === 'arp-reply' && m.senderIP === VIP && m.targetIP === '198.18.10.100');
  const ask = () => {
    assert.ok(deliver, 'the packet socket on eth0 is open');
    deliver(arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.10.100', targetIP: VIP }));
  };
  const l2Status = () => api.list<{ metadata: { labels: Record<string, string> }; status?: { node: string; interfaces?: { name: string }[] } }>(metallbPath('ServiceL2Status', NS)).filter((o) => o.metadata.labels[STATUS_SERVICE_NAME_LABEL] === 'web');

  it('announces its service IP: gratuitous ARP, a reply to a question, ServiceL2Status and ConfigurationState', async () => {
    await eventually('a gratuitous ARP for the IP', () => sent.some((m) => m.type === 'arp-request' && m.gratuitous && m.senderIP === VIP));
    ask();
    const [reply] = await eventually('an ARP reply', () => replies().length > 0 && replies());
    assert.equal(reply!.type === 'arp-reply' && reply!.senderMAC, ETH0.mac);
    const [status] = await eventually('a ServiceL2Status with its status', () => l2Status().some((o) => o.status) && l2Status());
    assert.equal(status!.status?.node, NODE);
    assert.deepEqual(status!.status?.interfaces?.map((i) => i.name), ['eth0']);
    const state = await eventually('ConfigurationState', () => api.get<Conditions>(metallbPath('ConfigurationState', NS, `speaker-${NODE}`)));
    assert.equal(state.status?.conditions?.find((c) => c.type === 'Valid')?.status, 'True');
    assert.deepEqual(speaker!.plan?.announcements.map((a) => [a.ip, a.node]), [[VIP, NODE]]);
  });

  it('stops answering and removes its status when the service goes', async () => {
    await eventually('the status', () => l2Status().length > 0);
    api.remove(servicePath('default', 'web'));
    await eventually('the status is gone', () => l2Status().length === 0);
    // With nothing to announce the responder closes its socket; if it is still open, a
    // question for the IP must go unanswered.
    sent.length = 0;
    if (deliver) {
      ask();
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(replies(), [], 'no answer for an IP it gave up');
  });

  it('gives the IP up when its node is labelled excluded from load balancers', async () => {
    await eventually('the status', () => l2Status().length > 0);
    api.put(COLLECTION.nodes, node({ [EXCLUDE_FROM_LB_LABEL]: '' }));
    await eventually('the plan leaves it unannounced', () => speaker!.plan?.announcements.length === 0);
    await eventually('the status is gone', () => l2Status().length === 0);
  });

  it('keeps announcing under the last valid configuration when an invalid one arrives', async () => {
    await eventually('the status', () => l2Status().length > 0);
    api.put(metallbPath('IPAddressPool', NS), { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'broken', namespace: NS }, spec: { addresses: ['198.18.10.0/30'] } });
    const valid = await eventually('ConfigurationState says invalid', () => {
      const c = api.get<Conditions>(metallbPath('ConfigurationState', NS, `speaker-${NODE}`))?.status?.conditions?.find((x) => x.type === 'Valid');
      return c?.status === 'False' && c;
    });
    assert.match(valid.message, /broken/);
    sent.length = 0;
    ask();
    await eventually('still an ARP reply', () => replies().length > 0);
  });
});
