// The lab's agent plays the parts of a cluster that the lab does not run for real:
// the kubelet of every node (pods get a network namespace, an address from the node's
// /26 and an HTTP server; their status says what is true), the scheduler, the
// Deployment controller (without ReplicaSets: `kubectl expose deployment` only needs the
// Deployment's selector), the EndpointSlice controller, the garbage collector for what
// it owns, and the namespace controller's cleanup. Everything it reports is observed:
// a pod is Ready only while its server process is listening. In a lab with real nodes
// the real kube-scheduler and kube-controller-manager do all but the first part: the
// agent is then the kubelet of the played nodes only (docs/LAB.md).
//
// Usage: node agent.ts NODES (run by `lab up`; the state directory comes from layout.ts)
import { createHash, randomInt } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Kube, isStatus, type KubeObject } from './kube.ts';
import { tlsMaterial } from './certs.ts';
import { labDir, nodeBinary, nodeHost, paths, podRange, stateDir, type Host } from './layout.ts';
import { createPodNetwork, deletePodNetwork } from './network.ts';
import { sleep } from './run.ts';
import { Informer } from './informer.ts';

// ---- the slices of the Kubernetes API the agent reads and writes ----------------

interface ContainerPort { name?: string; containerPort: number; protocol?: string }
interface Container { name: string; image?: string; ports?: ContainerPort[] }
interface PodSpec { nodeName?: string; containers: Container[]; [k: string]: unknown }
interface PodTemplate { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec }

interface Pod extends KubeObject {
  spec: PodSpec;
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

interface Deployment extends KubeObject {
  spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: PodTemplate };
  status?: Record<string, unknown>;
}

interface ServicePort { name?: string; protocol?: string; port: number; targetPort?: number | string; appProtocol?: string }
interface Service extends KubeObject {
  spec: { type?: string; selector?: Record<string, string>; ports?: ServicePort[]; clusterIP?: string };
}

interface Endpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
}
interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints: Endpoint[] | null;
  ports: { name: string; protocol: string; port: number; appProtocol?: string }[] | null;
}

interface Namespace extends KubeObject { spec?: { finalizers?: string[] }; status?: { phase?: string } }

const managedBy = 'lab.ferrolb.io';
const sliceSelector = encodeURIComponent(`endpointslice.kubernetes.io/managed-by=${managedBy}`);

// ---- the kubelet's view of one pod it runs --------------------------------------

interface PodRuntime {
  uid: string;
  namespace: string;
  name: string;
  node: Host;
  ip: string;
  child?: ChildProcess;
  listening: boolean;
  exited?: { code: number | null; signal: string | null; at: string };
  startedAt: string;
  reported?: string; // the status last written, so each change is written once
}

function log(msg: string): void {
  console.log(`${new Date().toISOString()} ${msg}`);
}

// Kubernetes' "safe encode" alphabet: no vowels, so generated names spell no words.
const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}
function templateHash(t: PodTemplate): string {
  const digest = createHash('sha256').update(JSON.stringify(t)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += alphabet[digest[i]! % alphabet.length];
  return s;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function ownerUid(o: KubeObject, kind: string): string | undefined {
  return o.metadata.ownerReferences?.find((r) => r.kind === kind && r.controller)?.uid;
}

const ns = (o: KubeObject) => o.metadata.namespace ?? 'default';

export class Agent {
  readonly #kube: Kube;
  readonly #nodes: Host[];
  // With real nodes, kube-scheduler and kube-controller-manager run (realnode.ts):
  // the agent is then only the kubelet of the played nodes.
  readonly #realControllers: boolean;
  readonly #pods = new Map<string, PodRuntime>(); // by pod uid
  readonly #nextHost = new Map<number, number>(); // node index -> next host number
  readonly #namespaces: Informer<Namespace>;
  readonly #deployments: Informer<Deployment>;
  readonly #podCache: Informer<Pod>;
  readonly #services: Informer<Service>;
  readonly #slices: Informer<EndpointSlice>;
  #dirty = true;
  // EndpointSlice work is proportional to the Services it looks at. With thousands of
  // Services (a controller benchmark) a full pass per event would make the agent the
  // busiest process on the machine, so events mark what they affect, and a full pass
  // runs every 10 s to retry failures and catch anything missed.
  #dirtyServices = new Set<string>();
  #dirtyNamespaces = new Set<string>();
  #fullDue = true;
  #lastFull = 0;
  #wake: (() => void) | undefined;
  #lastHeartbeat = 0;
  #stopping = false;
  #namespacedResources?: string[];

  constructor(kube: Kube, nodes: number, real: ReadonlySet<number> = new Set()) {
    this.#kube = kube;
    // Real nodes (lab up --real-nodes) have a kubelet of their own: the agent neither
    // heartbeats them, nor schedules onto them, nor runs their pods.
    this.#nodes = Array.from({ length: nodes }, (_, i) => nodeHost(i + 1)).filter((n) => !real.has(n.index));
    this.#realControllers = real.size > 0;
    const changed = () => this.poke();
    // A list (o undefined) marks everything; one event marks what it can affect.
    const podChanged = (o?: KubeObject) => {
      if (o) this.#dirtyNamespaces.add(ns(o));
      else this.#fullDue = true;
      this.poke();
    };
    const serviceChanged = (o?: KubeObject) => {
      if (o) this.#dirtyServices.add(`${ns(o)}/${o.metadata.name}`);
      else this.#fullDue = true;
      this.poke();
    };
    const sliceChanged = (o?: KubeObject) => {
      const svc = o?.metadata.labels?.['kubernetes.io/service-name'];
      if (o && svc) this.#dirtyServices.add(`${ns(o)}/${svc}`);
      else this.#fullDue = true;
      this.poke();
    };
    this.#namespaces = new Informer(kube, '/api/v1/namespaces', changed, log);
    this.#deployments = new Informer(kube, '/apis/apps/v1/deployments', changed, log);
    this.#podCache = new Informer(kube, '/api/v1/pods', podChanged, log);
    this.#services = new Informer(kube, '/api/v1/services', serviceChanged, log);
    this.#slices = new Informer(kube, `/apis/discovery.k8s.io/v1/endpointslices?labelSelector=${sliceSelector}`, sliceChanged, log);
  }

  get #informers() {
    return this.#realControllers ? [this.#podCache] : [this.#namespaces, this.#deployments, this.#podCache, this.#services, this.#slices];
  }

  /** Starts the watches; resolves once every cache holds a first list (at most 30 s). */
  async startInformers(): Promise<void> {
    for (const inf of this.#informers) void inf.run(() => this.#stopping);
    for (let i = 0; i < 300 && !this.#informers.every((inf) => inf.synced); i++) await sleep(100);
    if (!this.#informers.every((inf) => inf.synced)) throw new Error('caches did not fill within 30 s');
  }

  /** Something the agent must report changed outside the API (a pod server's state). */
  poke(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  /** Waits until a watched object changes or `ms` passes, whichever is first. */
  async idle(ms: number): Promise<void> {
    if (this.#dirty) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  stop(): void {
    this.#stopping = true;
  }

  readonly #failures = new Map<string, number>();
  // One object's failure (a conflict, a refused write) must not stop the agent from
  // reconciling every other object: each object is attempted on its own, and retried
  // next tick. Repeated failures are logged once, then every 25th time.
  async #attempt(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      this.#failures.delete(what);
    } catch (err) {
      const n = (this.#failures.get(what) ?? 0) + 1;
      this.#failures.set(what, n);
      if (n === 1 || n % 25 === 0) log(`${what}: ${(err as Error).message} (attempt ${n})`);
    }
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  async tick(): Promise<void> {
    if (Date.now() - this.#lastHeartbeat > 10_000) await this.heartbeat();
    this.#dirty = false;
    if (this.#realControllers) {
      await this.runPods(this.#podCache.list());
      return;
    }
    const namespaces = this.#namespaces.list();
    const deployments = this.#deployments.list();
    const pods = this.#podCache.list();
    const services = this.#services.list();
    const slices = this.#slices.list();
    // The API server refuses new objects in a terminating namespace; creating them
    // there would fail every tick.
    const terminating = new Set(namespaces.filter((n) => n.metadata.deletionTimestamp).map((n) => n.metadata.name));
    await this.reconcileDeployments(deployments.filter((d) => !terminating.has(ns(d))), pods);
    await this.schedule(pods);
    await this.runPods(pods);
    const full = this.#fullDue || Date.now() - this.#lastFull > 10_000;
    const dirtyServices = this.#dirtyServices;
    const dirtyNamespaces = this.#dirtyNamespaces;
    this.#dirtyServices = new Set();
    this.#dirtyNamespaces = new Set();
    if (full) {
      this.#fullDue = false;
      this.#lastFull = Date.now();
    }
    // Pods reported in this tick changed namespaces the watch will mark anyway; the
    // agent's own pod events arrive as watch events too.
    const look = full ? undefined : (svc: Service) => dirtyServices.has(`${ns(svc)}/${svc.metadata.name}`) || dirtyNamespaces.has(ns(svc));
    await this.reconcileSlices(services.filter((svc) => !terminating.has(ns(svc))), pods, slices, look);
    await this.finalizeNamespaces(namespaces, pods);
  }

  // ---- nodes ---------------------------------------------------------------------

  async heartbeat(): Promise<void> {
    const now = new Date().toISOString();
    for (const node of this.#nodes) {
      await this.#kube.mergePatch(`/api/v1/nodes/${node.name}/status`, { status: nodeStatus(node, now) });
    }
    this.#lastHeartbeat = Date.now();
  }

  // ---- the Deployment controller -------------------------------------------------

  async reconcileDeployments(deployments: Deployment[], pods: Pod[]): Promise<void> {
    const live = new Set(deployments.map((d) => d.metadata.uid));
    for (const d of deployments) await this.#attempt(`deployment ${ns(d)}/${d.metadata.name}`, async () => {
      if (d.metadata.deletionTimestamp) return;
      const hash = templateHash(d.spec.template);
      const owned = pods.filter((p) => ownerUid(p, 'Deployment') === d.metadata.uid && !p.metadata.deletionTimestamp);
      const current = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
      const old = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
      const want = d.spec.replicas ?? 1;
      // A changed template replaces every pod at once (the Recreate strategy): the lab
      // has no rollout to stage, and tests want the new pods quickly.
      for (const p of old) await this.deletePod(p);
      for (let i = current.length; i < want; i++) {
        const pod = await this.#kube.create<Pod>(`/api/v1/namespaces/${ns(d)}/pods`, this.podFor(d, hash, pods));
        pods.push(pod);
        this.#podCache.upsert(pod);
        log(`deployment ${ns(d)}/${d.metadata.name}: created pod ${pod.metadata.name} on ${pod.spec.nodeName}`);
      }
      // Scale down not-ready pods first, as the ReplicaSet controller does.
      const surplus = [...current].sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, Math.max(0, current.length - want));
      for (const p of surplus) await this.deletePod(p);

      // Status after this tick's actions: the API server rejects more ready than total.
      const kept = current.filter((p) => !surplus.includes(p));
      const total = kept.length + Math.max(0, want - current.length);
      const ready = kept.filter(isReady).length;
      const status = {
        observedGeneration: d.metadata.generation,
        replicas: total,
        updatedReplicas: total,
        readyReplicas: ready,
        availableReplicas: ready,
        unavailableReplicas: Math.max(0, want - ready),
        conditions: [{
          type: 'Available',
          status: ready >= want ? 'True' : 'False',
          reason: ready >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: ready >= want ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
        }],
      };
      if (JSON.stringify(pick(d.status, Object.keys(status))) !== JSON.stringify(status)) {
        this.#deployments.upsert(await this.#kube.mergePatch<Deployment>(`/apis/apps/v1/namespaces/${ns(d)}/deployments/${d.metadata.name}/status`, { status }));
      }
    });
    // The garbage collector's part: pods of a deleted Deployment go with it.
    for (const p of pods) {
      const owner = ownerUid(p, 'Deployment');
      if (owner && !live.has(owner) && !p.metadata.deletionTimestamp) await this.#attempt(`collect ${ns(p)}/${p.metadata.name}`, () => this.deletePod(p));
    }
  }

  podFor(d: Deployment, hash: string, pods: Pod[]): Pod {
    const labels = { ...d.spec.template.metadata?.labels, 'pod-template-hash': hash };
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${d.metadata.name}-${hash}-${randomSuffix(5)}`,
        namespace: ns(d),
        labels,
        ...(d.spec.template.metadata?.annotations ? { annotations: d.spec.template.metadata.annotations } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid ?? '', controller: true }],
      },
      spec: { ...d.spec.template.spec, nodeName: this.leastLoadedNode(pods).name },
    };
  }

  // The scheduler's part: spread pods evenly, lowest node index on ties.
  leastLoadedNode(pods: Pod[]): Host {
    const load = new Map(this.#nodes.map((n) => [n.name, 0]));
    for (const p of pods) {
      const n = p.spec.nodeName;
      if (n && load.has(n) && !p.metadata.deletionTimestamp) load.set(n, load.get(n)! + 1);
    }
    let best = this.#nodes[0]!;
    for (const n of this.#nodes) if (load.get(n.name)! < load.get(best.name)!) best = n;
    return best;
  }

  async schedule(pods: Pod[]): Promise<void> {
    if (this.#nodes.length === 0) return;
    for (const p of pods) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const node = this.leastLoadedNode(pods);
      await this.#attempt(`schedule ${ns(p)}/${p.metadata.name}`, async () => {
        await this.#kube.create(`/api/v1/namespaces/${ns(p)}/pods/${p.metadata.name}/binding`, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name: p.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: node.name },
      });
        p.spec.nodeName = node.name;
      });
    }
  }

  async deletePod(p: Pod): Promise<void> {
    try {
      // A pod bound to a node is deleted gracefully: the answer is the pod, now with a
      // deletionTimestamp, which the cache records so the next tick does not count it.
      const gone = (await this.#kube.delete(`/api/v1/namespaces/${ns(p)}/pods/${p.metadata.name}`)) as Pod;
      if (gone?.metadata?.deletionTimestamp) this.#podCache.upsert(gone);
      else this.#podCache.forget(p);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  // ---- the kubelet -------------------------------------------------------------

  async runPods(pods: Pod[]): Promise<void> {
    const seen = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      const node = this.#nodes.find((n) => n.name === p.spec.nodeName);
      if (!node) continue;
      seen.add(uid);
      let rt = this.#pods.get(uid);
      if (p.metadata.deletionTimestamp) {
        // Graceful deletion: the API server keeps the pod until its kubelet confirms
        // the containers are gone by deleting it with a zero grace period.
        if (rt) await this.stopPod(rt);
        await this.#attempt(`delete ${ns(p)}/${p.metadata.name}`, async () => {
          try {
            await this.#kube.delete(`/api/v1/namespaces/${ns(p)}/pods/${p.metadata.name}`, {
              apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid },
            });
            this.#podCache.forget(p);
          } catch (err) {
            if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
          }
        });
        continue;
      }
      if (!rt) {
        if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
        rt = this.startPod(p, node);
        if (!rt) continue;
      }
      await this.#attempt(`report ${ns(p)}/${p.metadata.name}`, () => this.reportPod(p, rt));
    }
    for (const rt of [...this.#pods.values()]) if (!seen.has(rt.uid)) await this.stopPod(rt);
  }

  // Addresses are handed out round-robin, as CNI's host-local IPAM does: reusing the
  // address a pod just released would meet stale ARP entries and conntrack state for
  // the old pod, and traffic would vanish for up to a minute.
  allocateIp(node: Host): string | undefined {
    const used = new Set([...this.#pods.values()].filter((r) => r.node === node).map((r) => r.ip));
    const [third, fourth] = podRange(node.index).base;
    const start = this.#nextHost.get(node.index) ?? 2;
    for (let k = 0; k < 61; k++) {
      const host = 2 + ((start - 2 + k) % 61); // .2 to .62
      const ip = `198.18.${third}.${fourth + host}`;
      if (!used.has(ip)) {
        this.#nextHost.set(node.index, host + 1);
        return ip;
      }
    }
    return undefined;
  }

  startPod(p: Pod, node: Host): PodRuntime | undefined {
    const ip = this.allocateIp(node);
    if (!ip) {
      log(`pod ${ns(p)}/${p.metadata.name}: node ${node.name} has no free pod address`);
      return undefined;
    }
    const rt: PodRuntime = { uid: p.metadata.uid ?? '', namespace: ns(p), name: p.metadata.name, node, ip, listening: false, startedAt: new Date().toISOString() };
    this.#pods.set(rt.uid, rt);
    const netns = createPodNetwork(node, ip);
    const tcpPorts = new Set<number>([80]);
    for (const c of p.spec.containers ?? []) for (const cp of c.ports ?? []) if ((cp.protocol ?? 'TCP') === 'TCP') tcpPorts.add(cp.containerPort);
    const child = spawn('ip', ['netns', 'exec', netns, nodeBinary, join(labDir, 'src', 'pod-server.ts'), rt.name, stateDir, ...[...tcpPorts].map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    rt.child = child;
    mkdirSync(paths.pods, { recursive: true });
    // The pid file lets a test or `lab pod stop` stop this pod's "container".
    if (child.pid) writeFileSync(podPidFile(rt.namespace, rt.name), `${child.pid}\n`);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line === 'ready') {
        rt.listening = true;
        this.poke();
      }
    });
    child.on('exit', (code, signal) => {
      rt.listening = false;
      rt.exited = { code, signal, at: new Date().toISOString() };
      log(`pod ${rt.namespace}/${rt.name}: server exited (${signal ?? code})`);
      this.poke();
    });
    log(`pod ${rt.namespace}/${rt.name}: started on ${node.name} at ${ip}`);
    return rt;
  }

  async stopPod(rt: PodRuntime): Promise<void> {
    if (rt.child && !rt.exited) {
      rt.child.kill('SIGTERM');
      // Bounded: the server exits within 500 ms of SIGTERM; after 2 s it is killed.
      for (let i = 0; i < 20 && !rt.exited; i++) await sleep(100);
      if (!rt.exited) rt.child.kill('SIGKILL');
    }
    deletePodNetwork(rt.node, rt.ip);
    rmSync(podPidFile(rt.namespace, rt.name), { force: true });
    this.#pods.delete(rt.uid);
    log(`pod ${rt.namespace}/${rt.name}: stopped`);
  }

  async reportPod(p: Pod, rt: PodRuntime): Promise<void> {
    const ready = rt.listening && !rt.exited;
    const state = rt.exited
      ? { terminated: { exitCode: rt.exited.code ?? 137, reason: rt.exited.code === 0 ? 'Completed' : 'Error', startedAt: rt.startedAt, finishedAt: rt.exited.at } }
      : ready ? { running: { startedAt: rt.startedAt } } : { waiting: { reason: 'ContainerCreating' } };
    const key = JSON.stringify([ready, Object.keys(state)[0]]);
    if (rt.reported === key) return;
    const now = new Date().toISOString();
    const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    const status = {
      // A stopped server is not restarted (the lab's pods have no restart policy to
      // speak of), so the pod stays Running but not Ready, as a pod whose readiness
      // probe fails does: that is the state a load balancer must react to.
      phase: ready || rt.exited ? 'Running' : 'Pending',
      hostIP: rt.node.v4,
      hostIPs: [{ ip: rt.node.v4 }],
      podIP: rt.ip,
      podIPs: [{ ip: rt.ip }],
      startTime: rt.startedAt,
      conditions: [cond('PodScheduled', true), cond('Initialized', true), cond('ContainersReady', ready), cond('Ready', ready)],
      containerStatuses: (p.spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        containerID: `lab://${rt.child?.pid ?? 0}`,
        ready,
        started: ready,
        restartCount: 0,
        state,
      })),
    };
    try {
      this.#podCache.upsert(await this.#kube.mergePatch<Pod>(`/api/v1/namespaces/${rt.namespace}/pods/${rt.name}/status`, { status }));
      rt.reported = key;
      log(`pod ${rt.namespace}/${rt.name}: ready=${ready}`);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  // ---- the EndpointSlice controller ---------------------------------------------

  async reconcileSlices(services: Service[], pods: Pod[], slices: EndpointSlice[], look?: (svc: Service) => boolean): Promise<void> {
    const wanted = new Set<string>();
    const sliceByKey = new Map(slices.map((s) => [`${ns(s)}/${s.metadata.name}`, s]));
    const podsByNamespace = new Map<string, Pod[]>();
    for (const p of pods) {
      const list = podsByNamespace.get(ns(p));
      if (list) list.push(p);
      else podsByNamespace.set(ns(p), [p]);
    }
    for (const svc of services) {
      const selector = svc.spec.selector;
      if (!selector || Object.keys(selector).length === 0 || svc.spec.type === 'ExternalName') continue;
      const name = `${svc.metadata.name}-lab`;
      wanted.add(`${ns(svc)}/${name}`);
      if (look && !look(svc)) continue;
      const desired = this.sliceFor(svc, name, (podsByNamespace.get(ns(svc)) ?? []).filter((p) => matches(selector, p.metadata.labels)));
      const existing = sliceByKey.get(`${ns(svc)}/${name}`);
      const path = `/apis/discovery.k8s.io/v1/namespaces/${ns(svc)}/endpointslices`;
      await this.#attempt(`endpointslice ${ns(svc)}/${name}`, async () => {
        if (!existing) {
          this.#slices.upsert(await this.#kube.create<EndpointSlice>(path, desired));
          log(`endpointslice ${ns(svc)}/${name}: created with ${desired.endpoints?.length ?? 0} endpoints`);
        } else if (JSON.stringify([existing.endpoints ?? [], existing.ports ?? []]) !== JSON.stringify([desired.endpoints ?? [], desired.ports ?? []])) {
          desired.metadata.resourceVersion = existing.metadata.resourceVersion;
          this.#slices.upsert(await this.#kube.replace<EndpointSlice>(`${path}/${name}`, desired));
          const ready = (desired.endpoints ?? []).filter((e) => e.conditions.ready).length;
          log(`endpointslice ${ns(svc)}/${name}: ${desired.endpoints?.length ?? 0} endpoints, ${ready} ready`);
        }
      });
    }
    for (const s of slices) {
      if (wanted.has(`${ns(s)}/${s.metadata.name}`)) continue;
      await this.#attempt(`endpointslice ${ns(s)}/${s.metadata.name}`, async () => {
        try {
          await this.#kube.delete(`/apis/discovery.k8s.io/v1/namespaces/${ns(s)}/endpointslices/${s.metadata.name}`);
          this.#slices.forget(s);
        } catch (err) {
          if (!isStatus(err, 404)) throw err;
        }
      });
    }
  }

  sliceFor(svc: Service, name: string, pods: Pod[]): EndpointSlice {
    const withIp = pods.filter((p) => p.status?.podIP && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed');
    const first = withIp[0];
    // A named targetPort resolves against the pod's container ports; the lab resolves
    // it once per Service, from the first pod (its pods share one template).
    const ports = (svc.spec.ports ?? []).flatMap((sp) => {
      let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
      if (typeof sp.targetPort === 'string') {
        const named = first?.spec.containers?.flatMap((c) => c.ports ?? []).find((cp) => cp.name === sp.targetPort);
        if (!named) return [];
        port = named.containerPort;
      }
      return [{ name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) }];
    });
    const endpoints: Endpoint[] = withIp
      .map((p) => {
        const terminating = Boolean(p.metadata.deletionTimestamp);
        const ready = isReady(p);
        return {
          addresses: [p.status!.podIP!],
          // discovery.k8s.io/v1: `ready` is false while terminating; `serving` tells
          // whether a terminating endpoint still passes its readiness check.
          conditions: { ready: ready && !terminating, serving: ready, terminating },
          nodeName: p.spec.nodeName ?? '',
          targetRef: { kind: 'Pod', namespace: ns(p), name: p.metadata.name, uid: p.metadata.uid ?? '' },
        };
      })
      .sort((a, b) => (a.addresses[0]! < b.addresses[0]! ? -1 : 1));
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name,
        namespace: ns(svc),
        labels: {
          'kubernetes.io/service-name': svc.metadata.name,
          'endpointslice.kubernetes.io/managed-by': managedBy,
          ...(svc.spec.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}),
        },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid ?? '', controller: true }],
      },
      addressType: 'IPv4',
      endpoints,
      ports,
    };
  }

  // ---- the namespace controller's cleanup --------------------------------------

  // A deleted namespace stays Terminating until everything in it is gone and its
  // `kubernetes` finalizer is removed; without this, tests that isolate themselves in
  // namespaces could not clean up.
  async finalizeNamespaces(namespaces: Namespace[], pods: Pod[]): Promise<void> {
    for (const n of namespaces) {
      if (!n.metadata.deletionTimestamp || !(n.spec?.finalizers ?? []).includes('kubernetes')) continue;
      const name = n.metadata.name;
      await this.#attempt(`namespace ${name}`, async () => {
        // Like the namespace controller: delete every kind, and finalize only once all
        // deletions went through (a failure is retried next tick).
        for (const path of await this.namespacedResources()) {
          try {
            await this.#kube.delete(path.replace('{ns}', name));
          } catch (err) {
            if (!isStatus(err, 404) && !isStatus(err, 405)) throw err;
          }
        }
        // Pods leave only after their kubelet (this agent) has stopped them.
        if (pods.some((p) => ns(p) === name)) return;
        await this.#kube.replace(`/api/v1/namespaces/${name}/finalize`, { ...n, spec: { finalizers: [] } });
        log(`namespace ${name}: finalized`);
      });
    }
  }

  async namespacedResources(): Promise<string[]> {
    if (this.#namespacedResources) return this.#namespacedResources;
    interface ResourceList { groupVersion: string; resources: { name: string; namespaced: boolean; verbs: string[] }[] }
    const versions: string[] = ['/api/v1'];
    const groups = await this.#kube.get<{ groups: { preferredVersion: { groupVersion: string } }[] }>('/apis');
    for (const g of groups.groups) versions.push(`/apis/${g.preferredVersion.groupVersion}`);
    const out: string[] = [];
    for (const v of versions) {
      const list = await this.#kube.get<ResourceList>(v);
      for (const r of list.resources) {
        if (r.name.includes('/') || !r.namespaced || !r.verbs.includes('deletecollection')) continue;
        out.push(`${v}/namespaces/{ns}/${r.name}`);
      }
    }
    // Custom resources registered later are missed until the agent restarts; the lab's
    // namespaces are short-lived, so a stale list costs a leftover at worst.
    this.#namespacedResources = out;
    return out;
  }
}

function pick(o: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o?.[k] !== undefined) out[k] = o[k];
  // Conditions carry timestamps the agent does not write; compare the parts it does.
  const conds = out['conditions'];
  if (Array.isArray(conds)) {
    out['conditions'] = conds.map((c: Record<string, unknown>) => ({ type: c['type'], status: c['status'], reason: c['reason'], message: c['message'] }));
  }
  return out;
}

export function podPidFile(namespace: string, name: string): string {
  return join(paths.pods, `${namespace}_${name}.pid`);
}

export function nodeStatus(node: Host, now: string): Record<string, unknown> {
  const cond = (type: string, status: string, reason: string) => ({ type, status, reason, lastHeartbeatTime: now, lastTransitionTime: now, message: '' });
  return {
    addresses: [
      { type: 'InternalIP', address: node.v4 },
      { type: 'InternalIP', address: node.v6 },
      { type: 'Hostname', address: node.name },
    ],
    capacity: { cpu: '2', memory: '8Gi', pods: '61' },
    allocatable: { cpu: '2', memory: '8Gi', pods: '61' },
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: 'ferrolb lab', containerRuntimeVersion: 'lab://1',
      kubeletVersion: 'v1.37.2', kubeProxyVersion: '', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    },
    conditions: [
      cond('Ready', 'True', 'KubeletReady'),
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      cond('NetworkUnavailable', 'False', 'RouteCreated'),
    ],
  };
}

export function nodeObject(node: Host): KubeObject & Record<string, unknown> {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': arch,
      },
    },
    spec: { podCIDR: podRange(node.index).cidr, podCIDRs: [podRange(node.index).cidr] },
  };
}

// ---- the process --------------------------------------------------------------

// A lab forgotten for a week stops its agent; everything else stays for `lab down`.
const maxLifetimeMs = 7 * 24 * 3600_000;

async function main(): Promise<void> {
  const nodes = Number(process.argv[2]);
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error('usage: agent.ts NODES');
  const kube = new Kube(tlsMaterial('admin'));
  const real = new Set((process.argv[4] ?? '').split(',').filter(Boolean).map(Number));
  const agent = new Agent(kube, nodes, real);
  let exiting = false;
  const shutdown = async () => {
    if (exiting) return;
    exiting = true;
    agent.stop();
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  const started = Date.now();
  await agent.startInformers();
  let ready = false;
  let failures = 0;
  while (!agent.stopping && Date.now() - started < maxLifetimeMs) {
    try {
      await agent.tick();
      if (!ready) {
        writeFileSync(paths.agentReady, `${process.pid}\n`);
        ready = true;
        log('ready');
      }
      failures = 0;
    } catch (err) {
      failures++;
      // Log each distinct burst once, not every tick.
      if (failures === 1 || failures % 25 === 0) log(`tick failed (${failures}): ${(err as Error).message}`);
    }
    // Watches wake the agent at once; the timeout drives heartbeats and retries, and
    // the short pause batches bursts of events into one tick.
    await sleep(50);
    await agent.idle(2000);
  }
  // Stop every pod server, so none outlives the agent.
  await agent.runPods([]);
  kube.close();
  log('stopped');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
