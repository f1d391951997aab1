// Webhook decision benchmark: how long admit() takes to judge one change (it builds the
// whole configuration twice: without and with the change), for configurations of
// 10, 100 and 1,000 pools, each pool with its own L2Advertisement and 4 BGPPeers in all.
// The server keeps the current configuration's errors until it changes, so a request
// builds the configuration once (with the change); "cold" is the first request after a
// configuration change, which builds it twice.
// Prints p50/p99/max per scenario. Run: npm run bench:webhook [-- --runs 200]
// Purely in memory: the addresses below are never put on a network.
import { admit, configurationFindings, type AdmissionRequest } from '../src/webhook/admission.ts';
import type { KubeObject } from '../src/k8s/client.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = Math.min(10_000, runsArg > 0 ? Number(process.argv[runsArg + 1]) : 200);
const NS = 'metallb-system';

function configuration(pools: number): KubeObject[] {
  const objs: KubeObject[] = [];
  for (let i = 0; i < pools; i++) {
    // 198.18.0.0/15 has 512 /24s; beyond that, /28s of 198.19.x.
    const cidr = i < 256 ? `198.18.${i}.0/24` : `198.19.${(i - 256) >> 4}.${((i - 256) & 15) * 16}/28`;
    objs.push({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: `pool-${i}`, namespace: NS }, spec: { addresses: [cidr] } } as KubeObject);
    objs.push({ apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: `l2-${i}`, namespace: NS }, spec: { ipAddressPools: [`pool-${i}`] } } as KubeObject);
  }
  for (let i = 0; i < 4; i++) {
    objs.push({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: `peer-${i}`, namespace: NS }, spec: { myASN: 64513, peerASN: 64512, peerAddress: `198.18.255.${i + 1}` } } as KubeObject);
  }
  return objs;
}

function request(addresses: string[]): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: 'metallb.io', version: 'v1beta1', kind: 'IPAddressPool' },
    namespace: NS,
    name: 'new-pool',
    operation: 'CREATE',
    object: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'new-pool', namespace: NS }, spec: { addresses } },
  };
}

function measure(current: KubeObject[], req: AdmissionRequest, expectAllowed: boolean, cold: boolean): number[] {
  const times: number[] = [];
  const findings = configurationFindings(current, NS);
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const d = cold ? admit(req, current, NS) : admit(req, current, NS, findings);
    times.push(performance.now() - t0);
    if (d.allowed !== expectAllowed) throw new Error(`unexpected decision: ${JSON.stringify(d)}`);
  }
  return times.sort((a, b) => a - b);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
console.log(`runs per scenario: ${RUNS}`);
console.log('pools  decision  p50 ms  p99 ms  max ms');
for (const pools of [10, 100, 1000]) {
  const current = configuration(pools);
  for (const [what, addresses, allowed, cold] of [['allowed', ['198.19.200.0/24'], true, false], ['refused', ['198.18.5.0/25'], false, false], ['cold', ['198.19.200.0/24'], true, true]] as const) {
    const t = measure(current, request([...addresses]), allowed, cold);
    console.log(`${String(pools).padStart(5)}  ${what.padEnd(8)}  ${pct(t, 50).toFixed(2).padStart(6)}  ${pct(t, 99).toFixed(2).padStart(6)}  ${t[t.length - 1]!.toFixed(2).padStart(6)}`);
  }
}
