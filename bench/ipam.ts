// Allocator benchmark: allocates 100,000 services into (a) one IPv4 /8 pool, (b) one
// IPv6 /64 pool, (c) 1,000 small pools reached through namespace selectors, then
// releases and re-allocates 10% of them. Prints allocations per second and heap.
// Run: npm run bench:ipam   (node --expose-gc bench/ipam.ts [--services N])
// Purely in memory: the addresses below are never put on a network.
import { execFileSync } from 'node:child_process';
import { Allocator } from '../src/ipam/allocator.ts';
import { parseAddressEntry, isAddressEntryError } from '../src/net/range.ts';
import { formatIP } from '../src/net/ip.ts';
import type { Pool } from '../src/config/model.ts';
import type { ServiceRequest } from '../src/api/service-request.ts';

const argIndex = process.argv.indexOf('--services');
const SERVICES = argIndex > 0 ? Number(process.argv[argIndex + 1]) : 100_000;

function range(text: string) {
  const r = parseAddressEntry(text);
  if (isAddressEntryError(r)) throw new Error(r.reason);
  return r;
}

function request(i: number, namespace: string, family: 'IPv4' | 'IPv6', nsLabels: Record<string, string> = {}): ServiceRequest {
  return {
    key: `${namespace}/svc-${i}`,
    namespace,
    name: `svc-${i}`,
    labels: {},
    namespaceLabels: nsLabels,
    requestedIPs: [],
    sharingKey: '',
    backendKey: '',
    ports: [{ protocol: 'TCP', port: 80 }],
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: [family],
  };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

interface Scenario {
  name: string;
  pools: Pool[];
  service: (i: number) => ServiceRequest;
}

const plain = (name: string, addresses: string[], extra: Partial<Pool> = {}): Pool => ({
  name,
  labels: {},
  ranges: addresses.map(range),
  autoAssign: true,
  avoidBuggyIPs: false,
  ...extra,
});

const smallPools: Pool[] = [];
for (let i = 0; i < 1000; i++) {
  // 1,000 /25s tile 198.18.0.0/15 (1,024 of them): 128 addresses each.
  const base = (198n << 24n) | (18n << 16n);
  const first = formatIP({ family: 'IPv4', value: base + BigInt(i) * 128n });
  smallPools.push(
    plain(`team-${i}`, [`${first}/25`], {
      serviceAllocation: { priority: 0, namespaces: [], namespaceSelectors: [{ matchLabels: { team: `t${i}` } }], serviceSelectors: [] },
    }),
  );
}

const scenarios: Scenario[] = [
  { name: '(a) one IPv4 /8 pool', pools: [plain('v4', ['198.0.0.0/8'])], service: (i) => request(i, 'default', 'IPv4') },
  { name: '(b) one IPv6 /64 pool', pools: [plain('v6', ['2001:db8::/64'])], service: (i) => request(i, 'default', 'IPv6') },
  {
    name: '(c) 1,000 pools, namespace selectors',
    pools: smallPools,
    service: (i) => request(i, `ns-${i % 1000}`, 'IPv4', { team: `t${i % 1000}` }),
  },
];

function run(s: Scenario): void {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const requests = Array.from({ length: SERVICES }, (_, i) => s.service(i));
  const alloc = new Allocator(s.pools);
  const t0 = performance.now();
  for (const r of requests) {
    const res = alloc.allocate(r);
    if (!res.ok) throw new Error(`${s.name}: ${r.key}: ${res.message}`);
  }
  const t1 = performance.now();
  // Churn: release every 10th service and allocate a new one in its place.
  for (let i = 0; i < SERVICES; i += 10) {
    alloc.release(requests[i]!.key);
    const res = alloc.allocate(s.service(SERVICES + i));
    if (!res.ok) throw new Error(`${s.name}: churn: ${res.message}`);
  }
  const t2 = performance.now();
  gc();
  // The allocator is alive here (used below); the requests array is counted too.
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  const allocSeconds = (t1 - t0) / 1000;
  console.log(
    `${s.name.padEnd(38)} | ${allocSeconds.toFixed(3).padStart(10)} | ${Math.round(SERVICES / allocSeconds).toLocaleString('en').padStart(10)} | ${((t2 - t1) / 1000).toFixed(3).padStart(11)} | ${heapMB.toFixed(1).padStart(7)} | ${(process.resourceUsage().maxRSS / 1024).toFixed(0).padStart(11)}`,
  );
  if (alloc.serviceCount !== SERVICES) throw new Error(`${s.name}: ${alloc.serviceCount} services held, want ${SERVICES}`);
}
// Each scenario runs in a fresh process, so heap and RSS figures are its own.
const only = process.argv.indexOf('--scenario');
if (only > 0) {
  run(scenarios[Number(process.argv[only + 1])]!);
} else {
  console.log(`ferrolb allocator benchmark: ${SERVICES.toLocaleString('en')} services per scenario, Node ${process.version}`);
  console.log('scenario                               | allocate s | alloc/s    | churn 10% s | heap MB | peak RSS MB');
  for (let i = 0; i < scenarios.length; i++) {
    const out = execFileSync(process.execPath, ['--expose-gc', import.meta.filename, '--scenario', String(i), '--services', String(SERVICES)]);
    process.stdout.write(out);
  }
}
