// The agent: one cache per kind it reads (cache.ts, on src/k8s/informer.ts) and one
// object per role, run in order each tick. In process mode (no real nodes) it plays the
// Deployment controller, the garbage collector for what it owns, the scheduler, the
// kubelet of every node, the EndpointSlice controller and the namespace controller's
// cleanup; with real nodes, kube-scheduler and kube-controller-manager run
// (realnode.ts) and the agent is only the kubelet of the played nodes (docs/LAB.md).
import type { Kube } from '../kube.ts';
import { nodeHost, type Host } from '../layout.ts';
import { ns, type Deployment, type EndpointSlice, type KubeObject, type Namespace, type Pod, type Service } from './api.ts';
import { Cache } from './cache.ts';
import { DeploymentController } from './deployments.ts';
import { EndpointSliceController, sliceSelector } from './endpoint-slices.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { Kubelet } from './kubelet.ts';
import { attempts } from './log.ts';
import { NamespaceController } from './namespaces.ts';
import { Heartbeat } from './node.ts';
import { Scheduler } from './scheduler.ts';

export class Agent {
  readonly #realControllers: boolean;
  readonly #namespaces: Cache<Namespace>;
  readonly #deployments: Cache<Deployment>;
  readonly #pods: Cache<Pod>;
  readonly #services: Cache<Service>;
  readonly #slices: Cache<EndpointSlice>;
  readonly #heartbeat: Heartbeat;
  readonly #scheduler: Scheduler;
  readonly #kubelet: Kubelet;
  readonly #deploymentController: DeploymentController;
  readonly #garbageCollector: GarbageCollector;
  readonly #sliceController: EndpointSliceController;
  readonly #namespaceController: NamespaceController;
  #dirty = true;
  #wake: (() => void) | undefined;
  #stopping = false;

  constructor(kube: Kube, nodes: number, real: ReadonlySet<number> = new Set()) {
    // Real nodes (lab up --real-nodes) have a kubelet of their own: the agent neither
    // heartbeats them, nor schedules onto them, nor runs their pods.
    const played: Host[] = Array.from({ length: nodes }, (_, i) => nodeHost(i + 1)).filter((n) => !real.has(n.index));
    this.#realControllers = real.size > 0;
    const poke = () => this.poke();
    const marking = (mark: (o: KubeObject) => void) => (_: unknown, o: KubeObject) => {
      mark(o);
      this.poke();
    };
    this.#namespaces = new Cache<Namespace>(kube.client, '/api/v1/namespaces', poke);
    this.#deployments = new Cache<Deployment>(kube.client, '/apis/apps/v1/deployments', poke);
    this.#pods = new Cache<Pod>(kube.client, '/api/v1/pods', marking((o) => this.#sliceController.podChanged(o)));
    this.#services = new Cache<Service>(kube.client, '/api/v1/services', marking((o) => this.#sliceController.serviceChanged(o)));
    this.#slices = new Cache<EndpointSlice>(kube.client, `/apis/discovery.k8s.io/v1/endpointslices?labelSelector=${sliceSelector}`, marking((o) => this.#sliceController.sliceChanged(o)));
    const attempt = attempts();
    this.#heartbeat = new Heartbeat(kube, played);
    this.#scheduler = new Scheduler(kube, played, attempt);
    this.#kubelet = new Kubelet(kube, played, this.#pods, attempt, poke);
    this.#deploymentController = new DeploymentController(kube, this.#deployments, this.#pods, this.#scheduler, attempt);
    this.#garbageCollector = new GarbageCollector(kube, this.#pods, attempt);
    this.#sliceController = new EndpointSliceController(kube, this.#slices, attempt);
    this.#namespaceController = new NamespaceController(kube, attempt);
  }

  get #caches(): Pick<Cache<KubeObject>, 'start' | 'stop' | 'synced'>[] {
    return this.#realControllers ? [this.#pods] : [this.#namespaces, this.#deployments, this.#pods, this.#services, this.#slices];
  }

  /** Starts the watches; resolves once every cache holds a first list (at most 30 s). */
  async startInformers(): Promise<void> {
    for (const c of this.#caches) c.start();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('caches did not fill within 30 s')), 30_000);
    });
    try {
      await Promise.race([Promise.all(this.#caches.map((c) => c.synced)), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Something the agent must report changed (a watched object, a pod server's state). */
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

  get stopping(): boolean {
    return this.#stopping;
  }

  async tick(): Promise<void> {
    await this.#heartbeat.beatIfDue();
    this.#dirty = false;
    const look = this.#sliceController.takeMarks();
    const pods = this.#pods.list();
    if (this.#realControllers) return this.#kubelet.run(pods);
    const namespaces = this.#namespaces.list();
    // The API server refuses new objects in a terminating namespace; creating them
    // there would fail every tick.
    const terminating = new Set(namespaces.filter((n) => n.metadata.deletionTimestamp).map((n) => n.metadata.name));
    const deployments = this.#deployments.list().filter((d) => !terminating.has(ns(d)));
    const services = this.#services.list().filter((svc) => !terminating.has(ns(svc)));
    const slices = this.#slices.list();
    await this.#deploymentController.reconcile(deployments, pods);
    await this.#garbageCollector.collect(deployments, pods);
    await this.#scheduler.schedule(pods);
    await this.#kubelet.run(pods);
    await this.#sliceController.reconcile(services, pods, slices, look);
    await this.#namespaceController.finalize(namespaces, pods);
  }

  /** Stops every pod server, so none outlives the agent, and the watches. */
  async shutdown(): Promise<void> {
    await this.#kubelet.run([]);
    for (const c of this.#caches) c.stop();
  }
}
