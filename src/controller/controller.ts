// The controller: watches Services, Namespaces and the metallb.io configuration, and
// keeps every LoadBalancer service's IPs right. All decisions are the pure ones that
// `ferrolb plan` runs (config build, restore, reconcile); this file only moves objects
// in from the informers and writes outcomes back: status, annotation, events, pool
// status, ConfigurationState. Only the elected leader writes.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject } from '../k8s/client.ts';
import { apiFailure, isStatus } from '../k8s/client.ts';
import { logFields, type RuntimeError } from '../observability/errors.ts';
import { WatchedResource } from '../k8s/informer.ts';
import { WorkQueue } from '../k8s/workqueue.ts';
import { EventRecorder, FAILURE_REASON, type ObjectReference } from '../k8s/events.ts';
import { LeaderElector, type ElectionTiming } from '../k8s/leader-election.ts';
import { ApiLeaseStore } from '../k8s/lease-store.ts';
import type { Clock, Timer } from '../time/clock.ts';
import { Allocator, type Assignment } from '../ipam/allocator.ts';
import { reconcileService, restoreService, type ReconcileOptions, type ServiceOutcome } from '../ipam/reconcile.ts';
import { POOL_ANNOTATION, readService, type V1Service } from '../api/service.ts';
import { projectNamespace, projectService } from '../api/projection.ts';
import { formatConfigError } from '../config/errors.ts';
import type { Config, Pool } from '../config/model.ts';
import { ConfigSource } from '../k8s/config-source.ts';
import { patchObjectStatus, patchServiceStatus } from '../k8s/operations.ts';
import { COLLECTION, deploymentPath } from '../k8s/paths.ts';
import { ConfigurationStateWriter, type ConfigResult } from '../k8s/configuration-state.ts';
import { V1BETA1 } from '../api/metallb.ts';
import { serviceWrites } from './service-status.ts';
import { RemovalSignals, removeTraces } from './removal.ts';
import type { ControllerMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logging.ts';

export interface ControllerOptions {
  readonly namespace: string;
  readonly loadBalancerClass?: string;
  readonly identity?: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  /** Lease timing; false runs without election (a single replica, or tests). */
  readonly election: ElectionTiming | false;
  /** Watchdog: re-watch a resource that was quiet this long, ms. */
  readonly quietTimeout?: number;
  /**
   * The controller's own Deployment (in `namespace`): its deletion means ferrolb is
   * being removed (src/controller/removal.ts). Unset (process mode), only the
   * namespace's deletion does.
   */
  readonly deployment?: string;
  /** Secrets the controller creates, deleted on removal. */
  readonly ownSecrets?: readonly string[];
  /** Called once, at once, when a removal is seen: stop re-creating what is about to be deleted. */
  readonly onRemoval?: (reason: string) => void;
}

interface NamespaceObject extends KubeObject {}

const LEASE_NAME = 'ferrolb-controller';
const POOL_STATUS_DEBOUNCE_MS = 1000;
const INT64_MAX = 2n ** 63n - 1n;
const MAX_WRITES_IN_FLIGHT = 32;

export class Controller {
  readonly #client: KubeClient;
  readonly #opts: ControllerOptions;
  readonly #log: Logger;
  readonly #identity: string;
  readonly #services: WatchedResource<V1Service & KubeObject>;
  readonly #namespaces: WatchedResource<NamespaceObject>;
  readonly #configSource: ConfigSource;
  /** One queue per leadership term: losing the lease shuts it down. */
  #queue: WorkQueue;
  readonly #events: EventRecorder;
  readonly #configState: ConfigurationStateWriter;
  readonly #elector: LeaderElector | undefined;
  /** Rebuilt from the API server's state at the start of every leadership term. */
  #alloc = new Allocator();
  #config: Config | undefined;
  #configKey = '';
  #leading = false;
  #stopped = false;
  /** Services waiting for an IP: retried whenever one is freed. */
  readonly #pending = new Set<string>();
  /** Last events emitted per service, with the resourceVersion they were for. */
  readonly #lastEvents = new Map<string, string>();
  #poolTimer: Timer | undefined;
  readonly #poolStatusWritten = new Map<string, string>();
  #synced = false;
  readonly #removal = new RemovalSignals();
  readonly #deployment: WatchedResource<KubeObject> | undefined;
  #removed: Promise<void> | undefined;

  constructor(client: KubeClient, opts: ControllerOptions) {
    this.#client = client;
    this.#opts = opts;
    this.#log = opts.log;
    this.#identity = opts.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.#queue = new WorkQueue(opts.clock);
    const watch = {
      clock: opts.clock,
      ...(opts.quietTimeout !== undefined ? { quietTimeout: opts.quietTimeout } : {}),
      onError: (path: string, err: unknown, retryInMs: number) => this.#log.warn({ path, ...logFields(apiFailure(err)), retryInMs }, 'watch failed; restarting'),
      onRestart: (path: string, why: string) => this.#log.debug({ path, why }, 'watch restarted'),
    };
    // The caches keep what readService and the writes read (src/api/projection.ts).
    this.#services = new WatchedResource(client, COLLECTION.services, watch, { project: projectService });
    this.#namespaces = new WatchedResource(client, COLLECTION.namespaces, watch, { project: projectNamespace });
    this.#configSource = new ConfigSource(client, opts.namespace, watch);
    this.#configSource.onChange(() => this.#configChanged());
    this.#services.onChange((_type, svc) => this.#queue.add(keyOf(svc)));
    this.#namespaces.onChange((type, ns) => {
      if (ns.metadata?.name === opts.namespace) this.#checkRemoval(this.#removal.namespace(type, ns));
      for (const svc of this.#services.list()) if (svc.metadata?.namespace === ns.metadata?.name) this.#queue.add(keyOf(svc));
    });
    if (opts.deployment !== undefined) {
      const selector = encodeURIComponent(`metadata.name=${opts.deployment}`);
      // MetalLB's Roles grant only `get` on its Deployment: under them this watch is
      // refused for good and retries at the backoff's pace; said once, then at debug.
      let told = false;
      const onError = (path: string, err: unknown, retryInMs: number) => {
        if (told) return this.#log.debug({ path, ...logFields(apiFailure(err)), retryInMs }, 'watch failed; restarting');
        told = true;
        this.#log.warn({ path, ...logFields(apiFailure(err)), retryInMs }, `cannot watch Deployment ${opts.deployment}; until it can, removal is told from the namespace's deletion alone`);
      };
      this.#deployment = new WatchedResource(client, `${deploymentPath(opts.namespace)}?fieldSelector=${selector}`, { ...watch, onError });
      this.#deployment.onChange((type, d) => this.#checkRemoval(this.#removal.deployment(type, d)));
    }
    this.#configState = new ConfigurationStateWriter(client, opts.namespace, 'controller', opts.clock, opts.log);
    this.#events = new EventRecorder(client, {
      component: 'ferrolb-controller',
      instance: this.#identity,
      clock: opts.clock,
      onError: (err) => this.#log.warn(logFields(apiFailure(err)), 'event not recorded'),
    });
    client.observe = (method, _path, status, seconds) => opts.metrics.apiRequests.observe({ verb: method, code: String(status) }, seconds);
    if (opts.election) {
      this.#elector = new LeaderElector(new ApiLeaseStore(client, opts.namespace, LEASE_NAME), this.#identity, opts.clock, opts.election, {
        onStartedLeading: () => void this.#startLeading(),
        onStoppedLeading: () => this.#stopLeading(),
        onNewLeader: (id) => this.#log.info({ leader: id, me: this.#identity }, 'leader'),
        onError: (err) => this.#log.warn(logFields(apiFailure(err)), 'lease'),
      });
    }
  }

  get identity(): string {
    return this.#identity;
  }

  /** Ready when every watch has loaded its first list. */
  get ready(): boolean {
    return this.#synced;
  }

  get isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader : this.#leading;
  }

  /** The configuration objects in the cache, for the webhook; undefined until synced. */
  configObjects(): KubeObject[] | undefined {
    return this.#synced ? this.#configSource.objects() : undefined;
  }

  /** Read-only view for tests and status: what the allocator holds. */
  assignment(key: string): Assignment | undefined {
    return this.#alloc.assignment(key);
  }

  start(): void {
    for (const r of this.#allResources()) r.start();
    // Not among the caches readiness waits for: without the RBAC to watch Deployments
    // (an older manifest) the controller still works, and only misses that signal.
    this.#deployment?.start();
    void Promise.all(this.#allResources().map((r) => r.synced)).then(() => {
      this.#synced = true;
      this.#log.info('caches synced');
    });
    if (this.#elector) this.#elector.start();
    else void this.#startLeading();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const wasLeader = this.isLeader;
    this.#elector?.stop();
    this.#stopLeading();
    await this.#events.flush();
    await this.#removed;
    if (wasLeader && !this.#removed) await this.#elector?.release().catch((err: unknown) => this.#log.warn(logFields(apiFailure(err)), 'lease not released'));
    for (const r of this.#allResources()) r.stop();
    this.#deployment?.stop();
    this.#configSource.stop();
    this.#configState.stop();
    this.#poolTimer?.cancel();
    await this.#events.flush();
  }

  /** Whether a removal of ferrolb was seen (src/controller/removal.ts). */
  get removed(): boolean {
    return this.#removed !== undefined;
  }

  /**
   * ferrolb is being removed: stop assigning for good (no replica leads again), and the
   * leader undoes what ferrolb wrote, before the installer deletes the RBAC that lets it.
   */
  #checkRemoval(reason: string | undefined): void {
    if (reason === undefined || this.#removed) return;
    const wasLeader = this.isLeader;
    this.#log.warn({ reason, leader: wasLeader }, 'ferrolb is being removed: clearing the IPs it assigned and the objects it made');
    this.#opts.onRemoval?.(reason);
    const services = wasLeader
      ? this.#services.list().filter((svc) => this.#alloc.assignment(keyOf(svc)) !== undefined)
      : [];
    this.#stopped = true;
    this.#elector?.stop();
    this.#stopLeading();
    this.#configState.stop();
    this.#poolTimer?.cancel();
    if (!wasLeader) {
      this.#removed = Promise.resolve();
      return;
    }
    const started = this.#opts.clock.now();
    this.#removed = removeTraces(this.#client, {
      namespace: this.#opts.namespace,
      services: services.map((s) => ({ namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '' })),
      secrets: this.#opts.ownSecrets ?? [],
      ...(this.#elector ? { lease: LEASE_NAME } : {}),
    }).then((failed) => {
      const ms = this.#opts.clock.now() - started;
      if (failed.length > 0) this.#log.error({ failed, ms }, 'removal: some of what ferrolb wrote could not be undone');
      else this.#log.info({ services: services.length, ms }, 'removal: every IP assigned and every object made by ferrolb is gone');
    });
  }

  #allResources(): WatchedResource<KubeObject>[] {
    return [this.#services, this.#namespaces, ...this.#configSource.resources];
  }

  async #startLeading(): Promise<void> {
    if (this.#stopped || this.#leading) return;
    this.#leading = true;
    this.#opts.metrics.isLeader.set(1);
    this.#log.info({ identity: this.#identity }, 'started leading');
    // A new term starts from what the API server shows, never from what this replica
    // believed in an earlier term: another leader may have written since.
    this.#queue = new WorkQueue(this.#opts.clock);
    this.#alloc = new Allocator();
    this.#configKey = '';
    this.#pending.clear();
    await Promise.all(this.#allResources().map((r) => r.synced));
    if (!this.#leading) return;
    const hadConfig = this.#config !== undefined;
    this.#rebuildConfig();
    if (!this.#config) {
      this.#log.warn('no valid configuration yet; services wait');
      return; // the next valid configuration starts the work (see #configChanged)
    }
    if (hadConfig && this.#configKey === '') this.#alloc.setPools(this.#config.pools); // invalid now: the last valid one stays
    this.#restoreAndQueueAll();
    void this.#work(this.#queue);
  }

  #stopLeading(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#opts.metrics.isLeader.set(0);
    this.#queue.shutDown();
    // Stop writing at once; stay a candidate and start a fresh term if the lease comes back.
    this.#log.warn({ identity: this.#identity }, 'stopped leading');
  }

  /** Start-up: every existing assignment is restored before anything new is handed out. */
  #restoreAndQueueAll(): void {
    const opts = this.#reconcileOptions();
    const services = this.#servicesInCreationOrder();
    let restored = 0;
    for (const svc of services) if (restoreService(this.#alloc, this.#view(svc), opts)) restored++;
    this.#log.info({ services: services.length, restored }, 'restored existing assignments');
    for (const svc of services) this.#queue.add(keyOf(svc));
  }

  #servicesInCreationOrder(): (V1Service & KubeObject)[] {
    return this.#services
      .list()
      .slice()
      .sort((a, b) => cmp(a.metadata?.creationTimestamp ?? '', b.metadata?.creationTimestamp ?? '') || cmp(keyOf(a), keyOf(b)));
  }

  #reconcileOptions(): ReconcileOptions {
    return this.#opts.loadBalancerClass !== undefined ? { loadBalancerClass: this.#opts.loadBalancerClass } : {};
  }

  #view(svc: V1Service) {
    const ns = svc.metadata?.namespace ?? 'default';
    return readService(svc, this.#namespaces.get(ns)?.metadata?.labels ?? {});
  }

  #configChanged(): void {
    if (!this.#leading) return;
    const hadConfig = this.#config !== undefined;
    this.#rebuildConfig();
    if (!hadConfig && this.#config && this.#leading) {
      this.#restoreAndQueueAll();
      void this.#work(this.#queue);
    }
  }

  /** Builds the configuration; an invalid one leaves the last valid one in force. */
  #rebuildConfig(): void {
    const built = this.#configSource.build();
    const m = this.#opts.metrics;
    if (!built.config) {
      const summary = built.errors.map(formatConfigError).join('; ');
      this.#log.error({ errors: built.errors.map(formatConfigError) }, 'invalid configuration; keeping the last valid one');
      m.configStale.set(this.#config ? 1 : 0);
      this.#writeConfigurationState('Invalid', summary);
      return;
    }
    m.configLoaded.set(1);
    m.configStale.set(0);
    // Warnings (a reference to an object not created yet, ...) leave the configuration
    // valid; what they name takes no part until fixed (RULES.md "Order independence").
    const warnings = built.warnings.map(formatConfigError);
    if (warnings.length > 0) this.#log.warn({ warnings }, 'configuration warnings');
    this.#writeConfigurationState('Valid', '', warnings.join('; '));
    const key = poolsKey(built.config.pools);
    const changed = key !== this.#configKey;
    this.#config = built.config;
    this.#configKey = key;
    if (changed) {
      this.#alloc.setPools(built.config.pools);
      this.#log.info({ pools: built.config.pools.map((p) => p.name) }, 'configuration loaded');
      for (const svc of this.#services.list()) this.#queue.add(keyOf(svc));
      this.#schedulePoolStatus();
    }
  }

  /**
   * The worker. Decisions are taken one service at a time (the allocator is one
   * sequence of events, as `plan` simulates it); the API writes that follow run
   * concurrently, up to MAX_WRITES_IN_FLIGHT, so the API server's latency is not paid
   * once per service in a row. A key stays "processing" until its writes finish, so one
   * service never has two writes racing.
   */
  async #work(queue: WorkQueue): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      while (inFlight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(inFlight);
      const key = await queue.get();
      if (key === undefined || !this.#leading || queue !== this.#queue) break;
      this.#opts.metrics.queueDepth.set(queue.length);
      const end = this.#opts.metrics.reconcileDuration.startTimer();
      const write = this.#reconcile(key)
        .then(
          () => {
            queue.forget(key);
            this.#opts.metrics.updates.inc();
          },
          (err: unknown) => {
            this.#opts.metrics.updateErrors.inc();
            const delay = queue.addRateLimited(key);
            if (err instanceof NotLeader) return void this.#log.debug({ service: key, retryInMs: delay }, 'not the leader: not written');
            const failure = apiFailure(err);
            this.#log.warn({ service: key, ...logFields(failure), retryInMs: delay }, 'reconcile failed; will retry');
            this.#writeRefused(this.#serviceRef(key), failure, 'the assignment was not written');
          },
        )
        .finally(() => {
          end();
          queue.done(key);
          inFlight.delete(write);
        });
      inFlight.add(write);
    }
    await Promise.all(inFlight);
  }

  /** Decides synchronously (before the first await), then writes. */
  #reconcile(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.#services.get(name, ns);
    if (!svc || svc.metadata?.deletionTimestamp) {
      this.#pending.delete(key);
      this.#lastEvents.delete(key);
      if (this.#alloc.release(key)) this.#onFreed();
      return Promise.resolve();
    }
    if (!this.#config) return Promise.resolve();
    const before = this.#alloc.assignment(key);
    const outcome = reconcileService(this.#alloc, this.#view(svc), this.#reconcileOptions());
    const after = this.#alloc.assignment(key);
    if (outcome.kind === 'failed' && outcome.reason === 'AllocationFailed') this.#pending.add(key);
    else this.#pending.delete(key);
    if (before && before.ips.some((ip) => !after?.ips.some((a) => a.family === ip.family && a.value === ip.value))) this.#onFreed();
    if (before !== after) this.#schedulePoolStatus();
    return this.#write(svc, ns, name, outcome);
  }

  async #write(svc: V1Service & KubeObject, ns: string, name: string, outcome: ServiceOutcome): Promise<void> {
    const key = `${ns}/${name}`;
    const writes = serviceWrites(svc, outcome);
    // Stop writing the moment leadership is in doubt (client-go: renew deadline).
    if (!this.isLeader) throw new NotLeader();
    try {
      if (writes.ingress !== undefined || writes.poolAnnotation !== undefined) {
        await patchServiceStatus(this.#client, { namespace: ns, name }, writes.ingress, writes.poolAnnotation !== undefined ? { [POOL_ANNOTATION]: writes.poolAnnotation } : undefined);
      }
    } catch (err) {
      if (isStatus(err, 404)) return; // deleted meanwhile: the delete event releases it
      throw err;
    }
    const signature = `${svc.metadata?.resourceVersion}|${outcome.events.map((e) => e.reason + e.message).join('|')}`;
    if (this.#lastEvents.get(key) !== signature) {
      this.#lastEvents.set(key, signature);
      const ref = this.#serviceRef(key);
      for (const e of outcome.events) this.#events.record(ref, e.type, e.reason, e.message);
    }
  }

  #serviceRef(key: string): ObjectReference {
    const slash = key.indexOf('/');
    const [namespace, name] = [key.slice(0, slash), key.slice(slash + 1)];
    const uid = this.#services.get(name, namespace)?.metadata?.uid;
    return { apiVersion: 'v1', kind: 'Service', namespace, name, ...(uid ? { uid } : {}) };
  }

  /**
   * A write the API server refused (RBAC, an admission webhook, validation) is told on
   * the object, with its code: it will not go away by retrying. Unanswered writes are
   * only logged: their Event would not get through either.
   */
  #writeRefused(obj: ObjectReference, failure: RuntimeError, what: string): void {
    if (failure.code === 'EAPIREFUSED') this.#events.recordFailure(obj, FAILURE_REASON.writeFailed, failure, what);
  }

  /** An IP was freed: services waiting for one get another try. */
  #onFreed(): void {
    for (const key of this.#pending) this.#queue.add(key);
    this.#schedulePoolStatus();
  }

  #schedulePoolStatus(): void {
    if (this.#poolTimer) return;
    this.#poolTimer = this.#opts.clock.setTimeout(() => {
      this.#poolTimer = undefined;
      void this.#writePoolStatus();
    }, POOL_STATUS_DEBOUNCE_MS);
  }

  async #writePoolStatus(): Promise<void> {
    const m = this.#opts.metrics;
    for (const pool of this.#config?.pools ?? []) {
      const u = this.#alloc.usage(pool.name);
      if (!u) continue;
      m.addressesInUse.set({ pool: pool.name }, u.assignedIPv4 + u.assignedIPv6);
      m.addressesTotal.set({ pool: pool.name }, Number(u.availableIPv4 + u.availableIPv6 + BigInt(u.assignedIPv4 + u.assignedIPv6)));
      if (!this.isLeader) continue;
      // int64 counts; a family of 2^63 addresses or more saturates (docs/COMPATIBILITY.md "IPAddressPool").
      const sat = (n: bigint) => (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON(String(n > INT64_MAX ? INT64_MAX : n));
      const status = { assignedIPv4: u.assignedIPv4, assignedIPv6: u.assignedIPv6, availableIPv4: sat(u.availableIPv4), availableIPv6: sat(u.availableIPv6) };
      const text = JSON.stringify(status);
      if (this.#poolStatusWritten.get(pool.name) === text) continue;
      try {
        await patchObjectStatus(this.#client, 'IPAddressPool', this.#opts.namespace, pool.name, status);
        this.#poolStatusWritten.set(pool.name, text);
      } catch (err) {
        const failure = apiFailure(err);
        this.#log.warn({ pool: pool.name, ...logFields(failure) }, 'pool status not written');
        this.#writeRefused({ apiVersion: V1BETA1, kind: 'IPAddressPool', namespace: this.#opts.namespace, name: pool.name }, failure, 'the pool status was not written');
      }
    }
  }

  #writeConfigurationState(result: ConfigResult, lastError: string, warnings = ''): void {
    if (this.isLeader) this.#configState.set(result, lastError, warnings);
  }

}

/** Thrown by a write started while leading, found not leading any more: retried, not a failure. */
class NotLeader extends Error {
  constructor() {
    super('not the leader');
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A canonical text of the pools, to tell whether a rebuild changed them. */
function poolsKey(pools: readonly Pool[]): string {
  return JSON.stringify(pools, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
}
