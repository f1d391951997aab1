// The controller's memory per Service, without the lab: the compiled Controller
// (build/js, as the processes run it) in this process, fed N Services through a fake API
// client that answers its merge patches with the MODIFIED events the API server would
// send (three events per Service, as in bench:controller). It prints the time until
// every Service shows an IP, V8's live heap per Service after a GC (the fake's own
// store is dropped first) and the process's RSS. Pass V8 flags to node to compare them:
//
//   node --expose-gc --max-semi-space-size=2 [--no-opt --no-maglev --optimize-for-size] \
//     bench/controller-heap.ts [--services 10000]
//
// It runs scripts/build.sh first. Node's type stripper runs for this file only, so RSS
// is a few MB above a controller process's; the heap per Service is the figure to compare.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Controller as ControllerType, ControllerOptions } from '../src/controller/controller.ts';
import type { KubeClient, WatchEventType } from '../src/k8s/client.ts';
import { repoDir } from '../test/helpers/lab.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '10000' } } });
const N = Number(values.services);
if (!(N >= 1 && N <= 100_000)) throw new Error('--services 1-100000');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

spawnSync('bash', [join(repoDir, 'scripts', 'build.sh')], { stdio: 'inherit' });
const built = (path: string) => join(repoDir, 'build', 'js', 'src', path);
const { Controller } = (await import(built('controller/controller.js'))) as { Controller: new (c: KubeClient, o: ControllerOptions) => ControllerType };
const { ControllerMetrics } = (await import(built('observability/metrics.js'))) as { ControllerMetrics: new () => ControllerOptions['metrics'] };
const { realClock } = (await import(built('time/clock.js'))) as { realClock: ControllerOptions['clock'] };
const { createLogger } = (await import(built('observability/logging.js'))) as { createLogger: (c: string, l: string) => ControllerOptions['log'] };

const rssMB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
const tick = () => new Promise((r) => setImmediate(r));

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> }; status?: { loadBalancer?: { ingress?: unknown[] } } } & Record<string, unknown>;
const handlers = new Map<string, (type: WatchEventType, o: Record<string, unknown>) => void>();
const store = new Map<string, Obj>();
let rv = 100;
const pool = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bench', namespace: 'metallb-system', uid: 'u-pool', resourceVersion: '5' }, spec: { addresses: ['198.18.0.0/15'] } };
const namespace = { metadata: { name: 'default', uid: 'u-ns', resourceVersion: '3', labels: { 'kubernetes.io/metadata.name': 'default' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };

/** What the controller calls on the API server; everything it writes succeeds. */
const client = {
  observe: undefined,
  async list(path: string) {
    const items = path.includes('ipaddresspools') ? [structuredClone(pool)] : path === '/api/v1/namespaces' ? [structuredClone(namespace)] : [];
    return { metadata: { resourceVersion: '10' }, items };
  },
  watch(url: string, onEvent: (type: WatchEventType, o: Record<string, unknown>) => void) {
    handlers.set(url.split('?')[0]!, onEvent);
    return { ended: new Promise(() => {}), abort() {} };
  },
  async get(): Promise<never> {
    throw Object.assign(new Error('not found'), { status: 404 });
  },
  async create(_path: string, body: unknown) {
    return body;
  },
  async replace(_path: string, body: unknown) {
    return body;
  },
  async delete() {
    return {};
  },
  async mergePatch(path: string, body: { metadata?: { annotations?: Record<string, string> }; status?: Obj['status'] }) {
    const m = /\/namespaces\/[^/]+\/services\/([^/]+)(\/status)?$/.exec(path);
    const before = m ? store.get(m[1]!) : undefined;
    if (before) {
      const s = structuredClone(before);
      if (body.metadata?.annotations) s.metadata.annotations = { ...s.metadata.annotations, ...body.metadata.annotations };
      if (body.status) s.status = body.status;
      s.metadata.resourceVersion = String(++rv);
      store.set(s.metadata.name, s);
      setImmediate(() => handlers.get('/api/v1/services')?.('MODIFIED', structuredClone(s)));
    }
    return {};
  },
} as unknown as KubeClient;

/** A Service as the API server returns it after a create (managedFields included). */
function service(i: number): Obj {
  const name = `s${i}`;
  const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
  return {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace: 'default',
      uid: `0b6f0d8e-5c3a-4a8e-9f1e-${String(i).padStart(12, '0')}`,
      resourceVersion: String(++rv),
      creationTimestamp: '2026-12-02T01:02:03Z',
      managedFields: [{ manager: 'bench', operation: 'Update', apiVersion: 'v1', time: '2026-12-02T01:02:03Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': {}, 'f:selector': {}, 'f:type': {} } } }],
    },
    spec: { ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }], selector: { app: name }, clusterIP: ip, clusterIPs: [ip], type: 'LoadBalancer', sessionAffinity: 'None', externalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', allocateLoadBalancerNodePorts: false, internalTrafficPolicy: 'Cluster' },
    status: { loadBalancer: {} },
  } as Obj;
}

const controller = new Controller(client, { namespace: 'metallb-system', clock: realClock, log: createLogger('controller', 'fatal'), metrics: new ControllerMetrics(), election: false });
controller.start();
for (let i = 0; i < 100 && !controller.ready; i++) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 200));
gc();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = rssMB();
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const s = service(i);
  store.set(s.metadata.name, s);
  handlers.get('/api/v1/services')!('ADDED', structuredClone(s));
  if (i % 50 === 49) await tick();
}
const assignedAll = () => [...store.values()].every((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0);
for (let i = 0; i < 60_000 && !assignedAll(); i++) await new Promise((r) => setTimeout(r, 5));
const ms = performance.now() - t0;
await new Promise((r) => setTimeout(r, 1500)); // pool status, events
store.clear(); // the fake API server's copies are not the controller's
gc();
gc();
const heap = (process.memoryUsage().heapUsed - heap0) / 1048576;
console.log(
  `${N} services, node ${process.execArgv.filter((a) => a !== '--expose-gc').join(' ')}: all assigned in ${(ms / 1000).toFixed(1)} s; ` +
    `heap +${heap.toFixed(1)} MB (${((heap * 1024) / N).toFixed(2)} KB per service), heap total ${(process.memoryUsage().heapTotal / 1048576).toFixed(0)} MB; RSS ${rssMB().toFixed(0)} MB (+${(rssMB() - rss0).toFixed(0)})`,
);
await controller.stop();
process.exit(0);
