// The speaker: one per node. It watches Services, EndpointSlices, Nodes and the
// metallb.io configuration, learns which speakers are alive from the membership
// heartbeats, runs the pure L2 plan (src/planning) and answers ARP/NDP for the
// IPs the plan gives this node (src/speaker/l2).
//
// Failover needs no API server: the plan is re-run the moment membership changes, from
// the informers' caches, which stay in place while the API server is unreachable.
// What the speaker writes to the API server (Events) is best effort, after the fact.
import { apiFailure, type KubeClient, type KubeObject } from '../k8s/client.ts';
import { V1BETA2 } from '../api/metallb.ts';
import { logFields } from '../observability/errors.ts';
import { WatchedResource, type WatchOptions } from '../k8s/informer.ts';
import { ConfigSource } from '../k8s/config-source.ts';
import { ConfigurationStateWriter } from '../k8s/configuration-state.ts';
import { formatUnreachable, sameUnreachable, unreachablePeers, type Unreachable } from './membership/reachability.ts';
import { EventRecorder, FAILURE_REASON } from '../k8s/events.ts';
import { COLLECTION, secretPath } from '../k8s/paths.ts';
import type { Clock, Timer } from '../time/clock.ts';
import type { V1Service } from '../api/service.ts';
import type { Config } from '../config/model.ts';
import { formatConfigError } from '../config/errors.ts';
import type { Logger } from '../observability/logging.ts';
import type { SpeakerMetrics } from '../observability/metrics.ts';
import { L2Planner, type IPAnnouncement, type L2Plan, type L2PlanInput } from '../planning/l2-plan.ts';
import { singleDeparture, standbySteps, type Standby } from '../planning/standby.ts';
import { nodeExcluded, nodeViewFromObject, serviceViewFromObjects, type EndpointSliceObject, type L2ServiceView, type NodeObject } from '../api/cluster-view.ts';
import { projectEndpointSlice, projectNode, projectService, sliceServiceKey } from '../api/projection.ts';
import { DEFAULT_INTERVAL, DEFAULT_SUSPECT_AFTER, Membership } from './membership/membership.ts';
import { L2Responder, type ResponderOptions } from './l2/responder.ts';
import { neighbourRequests } from './l2/neighbours.ts';
import { interfaceAddresses } from './l2/interfaces.ts';
import { ServiceStatusWriter, type StatusEntry } from './service-status.ts';
import { planDelay, type LastPlan } from './plan-pacing.ts';
import { BGPPlanner, type PeerRoutes } from '../planning/bgp-plan.ts';
import { BGPSessions } from './bgp/sessions.ts';
import { DEFAULT_DRAIN_TIME_S, drainStep, nodeDraining, type Drain } from './bgp/graceful-shutdown.ts';

export interface SpeakerOptions {
  readonly node: string;
  readonly namespace: string;
  readonly loadBalancerClass?: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: SpeakerMetrics;
  readonly membership: { readonly port: number; readonly bindAddress?: string; readonly key?: Buffer; readonly interval?: number; readonly suspectAfter?: number };
  readonly responder?: Partial<ResponderOptions>;
  readonly quietTimeout?: number;
  /** BGP graceful shutdown (RFC 8326): how long routes stay marked before they go, ms; 0 withdraws at once. */
  readonly bgpDrainMs?: number;
}

type ServiceObject = V1Service & KubeObject;
type SliceObject = EndpointSliceObject & KubeObject;
/** A service's view for the planners and the objects it was made from. */
type ViewSource = { readonly service: ServiceObject; readonly slices: readonly SliceObject[]; readonly view: L2ServiceView };
type NodeObj = NodeObject & KubeObject & { status?: { addresses?: { type?: string; address?: string }[] }; spec?: { unschedulable?: boolean; taints?: { key?: string }[] } };

/**
 * How long a stopping speaker keeps answering ARP/NDP after its goodbye: long enough for
 * the peers to take over and announce under load (they do within milliseconds when
 * idle), short next to a pod's termination grace period; it overlaps the status writes.
 */
const HANDOFF_MS = 500;

/** The standby takeovers are computed once the inputs have been quiet this long (N - 1 plans). */
const STANDBY_DELAY_MS = 500;

export class Speaker {
  readonly #opts: SpeakerOptions;
  readonly #log: Logger;
  readonly #services: WatchedResource<ServiceObject>;
  readonly #slices: WatchedResource<SliceObject>;
  readonly #nodes: WatchedResource<NodeObj>;
  /** BGPPeer passwordSecrets live in the speaker's namespace (MetalLB's rule). */
  readonly #secrets: WatchedResource<KubeObject & { data?: Record<string, string> }>;
  readonly #config: ConfigSource;
  readonly #membership: Membership;
  readonly #responder: L2Responder;
  readonly #events: EventRecorder;
  readonly #statuses: ServiceStatusWriter;
  readonly #bgpStatuses: ServiceStatusWriter;
  readonly #configState: ConfigurationStateWriter;
  readonly #bgp: BGPSessions;
  #validConfig: Config | undefined;
  #planTimer: Timer | undefined;
  /**
   * Each service's view as the last plan read it, with the objects it was made from. The
   * informers replace an object on every change, so the same objects mean the same view:
   * a plan reuses it instead of building every service's view again (at 200 services
   * those views were the largest part of the plans' garbage).
   */
  #views = new Map<string, ViewSource>();
  /** When the last plan started and how long it took: the pacing of the next (plan-pacing.ts). */
  #lastPlanRun: LastPlan | undefined;
  /** Keeps what liveness does not change between plans (a membership change, the standby, a failover reuse it). */
  readonly #planner = new L2Planner();
  readonly #bgpPlanner = new BGPPlanner();
  #settleTimer: Timer | undefined;
  #synced = false;
  #stopped = false;
  /** What this node announced after the last plan: IP -> service keys. */
  #mine = new Map<string, IPAnnouncement>();
  /** What the metrics and Events last said this node announces (#report). */
  #reported = new Map<string, IPAnnouncement>();
  /** Counts plans, so that a plan's deferred second half is dropped when a newer plan came. */
  #planGeneration = 0;
  #lastPlan: L2Plan | undefined;
  /** The live members last reported, this node included. */
  #live: ReadonlySet<string> = new Set();
  /** What the BGP sessions were last given (the plan, or its drained form). */
  #lastBGPPlan: readonly PeerRoutes[] = [];
  /** This node is excluded and its routes are being drained (graceful-shutdown.ts drainStep). */
  #bgpDrain: Drain | undefined;
  #bgpDrainTimer: Timer | undefined;
  /** The peers membership does not hear, as last reported (#reportReachability). */
  #unreachable: readonly Unreachable[] = [];
  #reachabilityReported = false;
  /** Counts every change to the plan's inputs but membership (informers, configuration). */
  #inputs = 0;
  /** What this node takes over if one peer dies, for the inputs and live set it was computed from. */
  #standby: { inputs: number; live: ReadonlySet<string>; takeovers: Standby } | undefined;
  #standbyTimer: Timer | undefined;
  /** Since when membership's local health says this speaker runs late (undefined: on time). */
  #lateSince: number | undefined;

  constructor(client: KubeClient, opts: SpeakerOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    const watch: WatchOptions = {
      clock: opts.clock,
      ...(opts.quietTimeout !== undefined ? { quietTimeout: opts.quietTimeout } : {}),
      onError: (path, err, retryInMs) => this.#log.warn({ path, ...logFields(apiFailure(err)), retryInMs }, 'watch failed; restarting'),
      onRestart: (path, why) => this.#log.debug({ path, why }, 'watch restarted'),
    };
    // The caches keep what the planners read (src/api/projection.ts); slices are indexed
    // by their service, which is how the plan reads them.
    this.#services = new WatchedResource(client, COLLECTION.services, watch, { project: projectService });
    this.#slices = new WatchedResource(client, COLLECTION.endpointSlices, watch, { project: projectEndpointSlice, indexBy: sliceServiceKey });
    this.#nodes = new WatchedResource(client, COLLECTION.nodes, watch, { project: projectNode });
    this.#secrets = new WatchedResource(client, secretPath(opts.namespace), watch);
    this.#secrets.onChange(() => this.#schedulePlan());
    this.#config = new ConfigSource(client, opts.namespace, watch);
    this.#services.onChange(() => this.#schedulePlan());
    this.#slices.onChange(() => this.#schedulePlan());
    this.#nodes.onChange(() => {
      this.#membership.setPeers(this.#peers());
      this.#schedulePlan();
      this.#reportReachability();
    });
    this.#config.onChange(() => {
      this.#loadConfig();
      this.#schedulePlan();
    });
    this.#membership = new Membership({
      node: opts.node,
      ...opts.membership,
      clock: opts.clock,
      onChange: (live) => {
        opts.metrics.liveMembers.set(live.size);
        this.#log.info({ live: [...live] }, 'members');
        const returned = [...live].filter((n) => !this.#live.has(n));
        this.#takeOverFromStandby(live);
        this.#live = live;
        this.#plan(); // at once: this is the failover path
        this.#reportReachability();
        // A peer that could not hear this node (a partition, a cut link on either
        // side) took this node for dead and may have announced its IPs meanwhile, so
        // clients may hold that peer's MAC. The plan has just given up what the peer
        // takes back; what stays here is announced again (docs/L2.md "Taking over").
        // Joins before the first plan are the start-up, not a return.
        if (returned.length > 0 && this.#lastPlan) this.#responder.reannounce(`${returned.join(', ')} reachable again`);
      },
      // The other side of the same: peers that had lost this node (it was frozen, or
      // cut off from them while it still heard them) and hear it again.
      onHeardAgain: (peers) => {
        if (this.#lastPlan) this.#responder.reannounce(`${peers.join(', ')} hear this node again`);
      },
      onHealth: (health, timeout, stalledMs) => {
        opts.metrics.membershipHealth.set(health);
        if (stalledMs !== undefined) this.#log.warn({ stalledMs }, 'this speaker stalled longer than a detection period (frozen, or starved of CPU); the stall is not counted as the peers\' silence');
        // Once when it turns late and once when it is on time again, not at every step.
        if (health > 0 && this.#lateSince === undefined) {
          this.#lateSince = opts.clock.now();
          this.#log.warn({ health, timeoutMs: timeout }, 'this speaker runs late: waiting longer before declaring a peer dead');
        } else if (health === 0 && this.#lateSince !== undefined) {
          this.#log.info({ timeoutMs: timeout, lateForMs: opts.clock.now() - this.#lateSince }, 'this speaker is on time again');
          this.#lateSince = undefined;
        }
      },
      // A link back from a carrier loss is answered once every peer hears this node
      // again, a heartbeat after the plan that counts them (docs/L2.md "Taking over").
      onHeard: () => this.#responder.peersHeard(),
      onRejected: (from, reason) => {
        opts.metrics.heartbeatsRejected.inc();
        this.#log.debug({ from, reason }, 'heartbeat rejected');
      },
    });
    this.#events = new EventRecorder(client, {
      component: 'ferrolb-speaker',
      instance: opts.node,
      clock: opts.clock,
      onError: (err) => this.#log.warn(logFields(apiFailure(err)), 'event not recorded'),
    });
    this.#responder = new L2Responder({
      clock: opts.clock,
      log: opts.log,
      metrics: opts.metrics,
      node: opts.node,
      onConflict: (ip, mac, ifname) => this.#conflict(ip, mac, ifname),
      carrierHoldOff: (opts.membership.suspectAfter ?? DEFAULT_SUSPECT_AFTER) + (opts.membership.interval ?? DEFAULT_INTERVAL),
      heardBack: (since) => this.#membership.heardBackSince(since),
      neighbourFrames: (link) => neighbourRequests(link.mac, interfaceAddresses(link.name), [...this.#peers()].filter(([n]) => n !== opts.node).flatMap(([, a]) => a)),
      ...opts.responder,
    });
    // A failed session is told on its BGPPeer, with the failure's code, for `kubectl
    // describe bgppeer` and `ferrolb doctor` (docs/METRICS.md "Runtime error codes").
    this.#bgp = new BGPSessions(opts.clock, opts.log, opts.metrics, () => this.#writeBGPStatuses(), (error, peer) =>
      this.#events.recordFailure({ apiVersion: V1BETA2, kind: 'BGPPeer', namespace: opts.namespace, name: peer }, FAILURE_REASON.bgpSessionFailed, error, `the session from node "${opts.node}"`),
    );
    const nodeUID = () => this.#nodes.get(opts.node)?.metadata?.uid;
    this.#statuses = new ServiceStatusWriter('ServiceL2Status', client, opts.namespace, opts.node, opts.clock, opts.log, nodeUID);
    this.#configState = new ConfigurationStateWriter(client, opts.namespace, `speaker-${opts.node}`, opts.clock, opts.log);
    this.#bgpStatuses = new ServiceStatusWriter('ServiceBGPStatus', client, opts.namespace, opts.node, opts.clock, opts.log, nodeUID);
    client.observe = (method, _path, status, seconds) => opts.metrics.apiRequests.observe({ verb: method, code: String(status) }, seconds);
  }

  get ready(): boolean {
    return this.#synced;
  }

  /** The last plan, for status and tests. */
  get plan(): L2Plan | undefined {
    return this.#lastPlan;
  }

  async start(): Promise<void> {
    for (const r of this.#resources()) r.start();
    this.#config.start();
    await this.#membership.start();
    this.#responder.start();
    void Promise.all([...this.#resources().map((r) => r.synced), this.#config.synced]).then(() => {
      this.#synced = true;
      this.#log.info('caches synced');
      this.#loadConfig();
      this.#membership.setPeers(this.#peers());
      this.#plan();
      this.#reportReachability();
    });
    // Until membership has listened for a full detection period, this speaker cannot
    // tell a dead peer from one not yet heard; it announces nothing before then.
    this.#settleTimer = this.#opts.clock.setTimeout(() => {
      this.#plan();
      this.#reportReachability();
    }, (this.#opts.membership.suspectAfter ?? DEFAULT_SUSPECT_AFTER) + 10);
  }

  /**
   * Tells the cluster which peers this speaker does not hear (ConfigurationState
   * condition MembersReachable), once membership has listened a full detection period
   * and the Node list is known; on change only. A dead speaker's own objects look alive;
   * this is how `ferrolb doctor` tells (docs/L2.md "A dead speaker is visible").
   */
  #reportReachability(): void {
    if (this.#stopped || !this.#synced || !this.#membership.settled) return;
    const now = this.#opts.clock.now();
    const next = unreachablePeers(this.#opts.node, this.#peers().keys(), this.#live, this.#unreachable, now);
    if (this.#reachabilityReported && sameUnreachable(next, this.#unreachable)) return;
    this.#unreachable = next;
    this.#reachabilityReported = true;
    this.#configState.setUnreachable(formatUnreachable(next));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#planTimer?.cancel();
    this.#settleTimer?.cancel();
    this.#standbyTimer?.cancel();
    this.#bgpDrainTimer?.cancel();
    // Leave first: the peers fail over at once instead of after a detection period.
    // Make-before-break: this node announces nothing more but keeps answering questions
    // for HANDOFF_MS, while the peers take its IPs over and announce them; a client that
    // asks in between is not left without an answer (docs/L2.md "Planned moves").
    this.#membership.stop();
    this.#responder.quiesce();
    const handedOff = new Promise((resolve) => setTimeout(resolve, HANDOFF_MS)).then(() => this.#responder.stop());
    // BGP: a stopping speaker is usually restarting (an upgrade, a rollout): peers with
    // graceful restart keep its routes for the restart time. Otherwise, or when the node
    // is being drained, the routes are first marked GRACEFUL_SHUTDOWN so routers move
    // traffic while this node still forwards, then withdrawn (docs/BGP.md "Graceful
    // shutdown"). The clock's timers do not hold the process open; this does meanwhile.
    const keepAlive = setInterval(() => {}, 1000);
    const bgpClosed = this.#bgp.shutdown({ nodeDraining: nodeDraining(this.#nodes.get(this.#opts.node)), drainMs: this.#drainMs() });
    // This node announces nothing any more: say so, if the API server answers within
    // 2 s (well inside a pod's termination grace period); a loaded API server may take
    // more than a few hundred milliseconds. Written while BGP drains, so the two waits
    // overlap.
    this.#statuses.set([]);
    this.#bgpStatuses.set([]);
    for (let waited = 0; waited < 2000 && !(this.#statuses.settled && this.#bgpStatuses.settled); waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await bgpClosed;
    await handedOff;
    clearInterval(keepAlive);
    this.#statuses.stop();
    this.#bgpStatuses.stop();
    this.#configState.stop();
    for (const r of this.#resources()) r.stop();
    this.#config.stop();
    await this.#events.flush();
  }

  #resources(): Pick<WatchedResource<KubeObject>, 'start' | 'stop' | 'synced'>[] {
    return [this.#services, this.#slices, this.#nodes, this.#secrets];
  }

  #peers(): Map<string, string[]> {
    const peers = new Map<string, string[]>();
    for (const node of this.#nodes.list()) {
      const name = node.metadata?.name;
      if (!name) continue;
      const addresses = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && a.address).map((a) => a.address!);
      // IPv4 first: one address per peer is used, and most clusters are IPv4-first.
      addresses.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
      peers.set(name, addresses);
    }
    return peers;
  }

  #loadConfig(): void {
    this.#inputs++;
    const built = this.#config.build();
    const m = this.#opts.metrics;
    if (!built.config) {
      m.configStale.set(this.#validConfig ? 1 : 0);
      this.#log.error({ errors: built.errors.map(formatConfigError) }, 'invalid configuration; keeping the last valid one');
      this.#configState.set('Invalid', built.errors.map(formatConfigError).join('; '));
      return;
    }
    m.configLoaded.set(1);
    m.configStale.set(0);
    // Warnings (a peer waiting for its BFDProfile, a vrf not acted on) are shown, not silenced.
    this.#configState.set('Valid', '', built.warnings.map(formatConfigError).join('; '));
    this.#validConfig = built.config;
  }

  #schedulePlan(): void {
    this.#inputs++;
    if (this.#planTimer) return;
    const clock = this.#opts.clock;
    this.#planTimer = clock.setTimeout(() => {
      this.#planTimer = undefined;
      this.#plan();
    }, planDelay(clock.now(), this.#lastPlanRun));
  }

  /** The L2 planner's input from the caches, or undefined before they are ready. */
  #planInput(): L2PlanInput | undefined {
    if (this.#stopped || !this.#synced || !this.#membership.settled) return undefined;
    const config = this.#validConfig;
    if (!config) return undefined;
    const lbClass = this.#opts.loadBalancerClass;
    const views = new Map<string, ViewSource>();
    for (const s of this.#services.list()) {
      if (s.spec?.type !== 'LoadBalancer' || (s.spec.loadBalancerClass ?? undefined) !== lbClass || (s.status?.loadBalancer?.ingress ?? []).length === 0) continue;
      const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
      const slices = this.#slices.indexed(key);
      const was = this.#views.get(key);
      views.set(key, was && was.service === s && sameObjects(was.slices, slices) ? was : { service: s, slices, view: serviceViewFromObjects(s, slices) });
    }
    this.#views = views;
    const services = [...views.values()].map((e) => e.view);
    return { config, services, nodes: this.#nodes.list().map(nodeViewFromObject), liveNodes: this.#membership.live() };
  }

  /**
   * Failover without waiting for a plan: when exactly one peer left the live set and
   * nothing else changed since the standby was computed, this node announces what it
   * takes over at once; the full plan follows (docs/L2.md "Taking over").
   */
  #takeOverFromStandby(live: ReadonlySet<string>): void {
    const standby = this.#standby;
    if (!standby || standby.inputs !== this.#inputs || this.#planTimer || !sameSet(standby.live, this.#live)) return;
    const peer = singleDeparture(this.#live, live);
    const gained = peer === undefined ? undefined : standby.takeovers.get(peer);
    if (!gained) return;
    this.#responder.addAnnouncements(gained.map((a) => ({ ip: a.ip, interfaces: a.interfaces })));
  }

  /**
   * Computes the standby takeovers once the inputs are quiet (N - 1 plans: not on every
   * change), one peer per turn of the event loop, so that the longest stall is one plan,
   * not N - 1 (planning/standby.ts standbySteps). A peer not covered yet simply has no
   * takeover ready: its failover waits for the full plan, as before the standby existed.
   */
  #scheduleStandby(): void {
    this.#standbyTimer?.cancel();
    const inputs = this.#inputs;
    const clock = this.#opts.clock;
    this.#standbyTimer = clock.setTimeout(() => {
      const input = this.#planInput();
      const current = this.#lastPlan;
      if (!input || !current) return;
      const steps = standbySteps(input, this.#opts.node, current, this.#planner);
      const takeovers = new Map<string, IPAnnouncement[]>();
      const step = () => {
        this.#standbyTimer = undefined;
        // Nothing changed since the last plan (same inputs, same live set): it is the current one.
        if (this.#stopped || inputs !== this.#inputs || !sameSet(input.liveNodes, this.#live)) return;
        const next = steps.next();
        if (next.done) return;
        const [peer, gained] = next.value;
        if (gained.length > 0) takeovers.set(peer, gained);
        // All covered so far (the first step also drops what an earlier standby prepared).
        this.#responder.prepare([...takeovers.values()].flat().map((a) => ({ ip: a.ip, interfaces: a.interfaces })));
        this.#standby = { inputs, live: input.liveNodes, takeovers };
        this.#standbyTimer = clock.setTimeout(step, 0);
      };
      step();
    }, STANDBY_DELAY_MS);
  }

  #plan(): void {
    const startedAt = this.#opts.clock.now();
    const input = this.#planInput();
    if (!input) return;
    try {
      this.#planFrom(input);
    } finally {
      this.#lastPlanRun = { startedAt, durationMs: this.#opts.clock.now() - startedAt };
    }
  }

  #planFrom(input: L2PlanInput): void {
    const { config, services } = input;
    const plan = this.#planner.plan(input);
    this.#lastPlan = plan;
    this.#standby = undefined;
    this.#scheduleStandby();
    const mine = new Map(plan.announcements.filter((a) => a.node === this.#opts.node).map((a) => [a.ip, a]));
    // L2 first: this is the failover path.
    this.#responder.setAnnouncements([...mine.values()].map((a) => ({ ip: a.ip, interfaces: a.interfaces })));
    const before = [...this.#mine.keys()].join(',');
    const after = [...mine.keys()].join(',');
    if (before !== after) {
      // The first IPs only: with thousands, the line would be tens of kilobytes per change.
      const announcing = [...mine.keys()];
      this.#log.info({ announcing: announcing.slice(0, 20), count: announcing.length, live: [...this.#membership.live()], ips: plan.announcements.length }, 'plan changed');
    }
    this.#mine = mine;
    // BGP, metrics, Events and status objects on the next turn of the event loop: with
    // thousands of services each half is a few hundred ms on a loaded node, and in
    // between the heartbeats' runway is refilled and frames are answered (a stall past
    // the runway is a death to the peers: docs/L2.md "The heartbeat runway"). A plan
    // that comes first replaces this one's second half with its own.
    const generation = ++this.#planGeneration;
    this.#opts.clock.setTimeout(() => {
      if (generation !== this.#planGeneration || this.#stopped) return;
      const startedAt = this.#opts.clock.now();
      this.#planBGP(config, services);
      this.#opts.metrics.updates.inc();
      this.#report(mine);
      this.#statuses.set([...mine.values()].flatMap((a) => a.services.map((service) => ({ service, detail: { interfaces: this.#responder.interfacesFor(a.ip).map((name) => ({ name })) } }))));
      // The pacing of plans counts both halves.
      const last = this.#lastPlanRun;
      if (last) this.#lastPlanRun = { ...last, durationMs: last.durationMs + this.#opts.clock.now() - startedAt };
    }, 0);
  }

  /** BGP: every eligible node announces; no election, no membership (routers do ECMP). */
  #planBGP(config: Config, services: readonly L2ServiceView[]): void {
    const me = this.#nodes.get(this.#opts.node);
    if (!me) {
      if (config.bgpPeers.length > 0) this.#log.warn({ node: this.#opts.node }, 'no Node object for this node; no BGP sessions');
      this.#lastBGPPlan = [];
      this.#bgp.apply([], '');
      this.#writeBGPStatuses();
      return;
    }
    const addresses = (me.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' && a.address && !a.address.includes(':'));
    const node = nodeViewFromObject(me);
    const now = this.#opts.clock.now();
    const drainMs = this.#drainMs();
    const wasDraining = this.#bgpDrain !== undefined;
    const step = drainStep({ plan: this.#bgpPlanner.plan({ config, services, node }), announced: this.#lastBGPPlan, leaving: nodeExcluded(node), drain: this.#bgpDrain, now, drainMs });
    if (!wasDraining && step.wakeAt !== undefined) this.#log.info({ withdrawInMs: drainMs }, 'node excluded from load balancers: BGP routes announced again with GRACEFUL_SHUTDOWN (RFC 8326), withdrawn after the drain time');
    this.#bgpDrain = step.drain;
    this.#bgpDrainTimer?.cancel();
    this.#bgpDrainTimer = step.wakeAt === undefined ? undefined : this.#opts.clock.setTimeout(() => this.#plan(), Math.max(0, step.wakeAt - now));
    this.#lastBGPPlan = step.announce;
    this.#bgp.apply(this.#lastBGPPlan, addresses[0]?.address ?? '0.0.0.0', this.#passwords(config), new Map(config.bfdProfiles.map((p) => [p.name, p])));
    this.#writeBGPStatuses();
  }

  #drainMs(): number {
    return this.#opts.bgpDrainMs ?? DEFAULT_DRAIN_TIME_S * 1000;
  }

  /**
   * ServiceBGPStatus: for each service this node announces over BGP, the peers that
   * carry it now, i.e. whose session is Established (a configured but down peer
   * receives nothing, so listing it would mislead).
   */
  #writeBGPStatuses(): void {
    const established = this.#bgp.established();
    const peersByService = new Map<string, string[]>();
    for (const { peer, services } of this.#lastBGPPlan) {
      if (!established.has(peer.name)) continue;
      for (const service of new Set([...services.values()].flat())) {
        let peers = peersByService.get(service);
        if (!peers) peersByService.set(service, (peers = []));
        if (!peers.includes(peer.name)) peers.push(peer.name);
      }
    }
    const entries: StatusEntry[] = [...peersByService].map(([service, peers]) => ({ service, detail: { peers: peers.sort() } }));
    this.#bgpStatuses.set(entries);
  }

  /** TCP MD5 passwords per peer: `password`, or the `password` key of `passwordSecret`. */
  #passwords(config: Config): Map<string, string> {
    const out = new Map<string, string>();
    for (const peer of config.bgpPeers) {
      if (peer.password !== undefined) out.set(peer.name, peer.password);
      else if (peer.passwordSecret) {
        const secret = this.#secrets.get(peer.passwordSecret.name, peer.passwordSecret.namespace);
        const value = secret?.data?.['password'];
        if (value !== undefined) out.set(peer.name, Buffer.from(value, 'base64').toString('utf8'));
      }
    }
    return out;
  }

  /** Metrics and Events for what changed in this node's announcements. */
  /** Metrics and nodeAssigned Events for what changed since the last report. */
  #report(mine: Map<string, IPAnnouncement>): void {
    const m = this.#opts.metrics.announced;
    const reported = this.#reported;
    for (const [ip, a] of reported) {
      for (const service of a.services) if (!mine.get(ip)?.services.includes(service)) m.remove({ ip, node: this.#opts.node, protocol: 'layer2', service });
    }
    for (const [ip, a] of mine) {
      for (const service of a.services) {
        m.set({ ip, node: this.#opts.node, protocol: 'layer2', service }, 1);
        if (reported.get(ip)?.services.includes(service)) continue;
        const [namespace, name] = service.split('/') as [string, string];
        const svc = this.#services.get(name, namespace);
        this.#events.record(
          { apiVersion: 'v1', kind: 'Service', namespace, name, ...(svc?.metadata?.uid ? { uid: svc.metadata.uid } : {}) },
          'Normal',
          'nodeAssigned',
          `announcing from node "${this.#opts.node}" with protocol "layer2"`,
        );
      }
    }
    this.#reported = mine;
  }

  #conflict(ip: string, mac: string, ifname: string): void {
    for (const service of this.#mine.get(ip)?.services ?? []) {
      const [namespace, name] = service.split('/') as [string, string];
      this.#events.record(
        { apiVersion: 'v1', kind: 'Service', namespace, name },
        'Warning',
        'AddressConflict',
        `${ip} is also claimed by ${mac} on ${ifname} of node "${this.#opts.node}": another host uses this load-balancer IP`,
      );
    }
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** The same objects in the same order (the slices of a service, as the informer's index lists them). */
function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
