// Planned withdrawal without loss (RFC 8326, BGP Graceful Shutdown). A node that is
// about to stop announcing while its data plane still forwards (the speaker stops, the
// node is excluded from load balancers or drained) first announces the same routes again
// with the GRACEFUL_SHUTDOWN community and, towards iBGP peers, LOCAL_PREF 0. Routers
// then prefer the other nodes' paths (an ECMP set loses this node's path) while this
// node still forwards what arrives; only after a bounded wait are the routes withdrawn or
// the session closed. Withdrawing at once instead leaves every router between the
// withdrawal and its new best path dropping or misrouting traffic for as long as the
// withdrawal takes to reach it (RFC 8326 1).
//
// Pure: which routes each phase announces, and what a stopping speaker does with each
// session. The waiting (a timer on the injected clock) and the sockets are the
// session driver's and the speaker's.
import type { PeerRoutes, RouteAttributes } from '../../planning/bgp-plan.ts';

/** RFC 8326 5: the well-known community GRACEFUL_SHUTDOWN, 65535:0. */
export const GRACEFUL_SHUTDOWN_COMMUNITY = 0xffff0000;
/**
 * RFC 8326 4.1: the lowest LOCAL_PREF, so that any other path wins. Sent to iBGP peers
 * only (LOCAL_PREF is not sent over eBGP, RFC 4271 5.1.5); an eBGP router needs the
 * RFC 8326 4.2 import policy (match 65535:0, set LOCAL_PREF 0), which FRR applies by
 * itself and BIRD and GoBGP are given in the lab (docs/BGP.md "Graceful shutdown").
 */
export const GRACEFUL_SHUTDOWN_LOCAL_PREF = 0;

/**
 * How long a leaving node keeps its gshut-marked routes before withdrawing them, by
 * default, in seconds. The router moves traffic as soon as it has run its best-path
 * selection (milliseconds in the lab's BIRD and FRR), but routers further away hear of
 * it only after it has been passed on (route reflectors, hardware FIB programming:
 * typically well under a few seconds); 5 s covers that and still fits, with the 2 s the
 * speaker gives its status writes, inside the 10 s termination grace period of
 * ferrolb's manifests. `--bgp-drain-time` changes it (0: withdraw at once).
 */
export const DEFAULT_DRAIN_TIME_S = 5;
export const MAX_DRAIN_TIME_S = 300;

/** The route as announced while draining: GRACEFUL_SHUTDOWN added, LOCAL_PREF 0. */
export function gracefulShutdownAttributes(r: RouteAttributes): RouteAttributes {
  const communities = r.communities.includes(GRACEFUL_SHUTDOWN_COMMUNITY) ? r.communities : [...r.communities, GRACEFUL_SHUTDOWN_COMMUNITY].sort((a, b) => a - b);
  return { localPref: GRACEFUL_SHUTDOWN_LOCAL_PREF, communities, largeCommunities: r.largeCommunities };
}

export function gracefulShutdownRoutes(routes: ReadonlyMap<string, RouteAttributes>): Map<string, RouteAttributes> {
  return new Map([...routes].map(([prefix, r]) => [prefix, gracefulShutdownAttributes(r)]));
}

// ---- A node that stops qualifying (excluded from load balancers) -----------------------

/** A drain in progress: since when, and what the node announced when it began. */
export interface Drain {
  readonly since: number;
  /** Peer name -> prefix -> attributes, as announced before the drain. */
  readonly held: ReadonlyMap<string, ReadonlyMap<string, RouteAttributes>>;
}

export interface DrainInput {
  /** What the plan gives now (a leaving node's plan has its peers, without routes). */
  readonly plan: readonly PeerRoutes[];
  /** What the sessions were last given. */
  readonly announced: readonly PeerRoutes[];
  /** The node is leaving while its speaker runs (excluded: src/api/cluster-view.ts nodeExcluded). */
  readonly leaving: boolean;
  readonly drain: Drain | undefined;
  readonly now: number;
  readonly drainMs: number;
}

export interface DrainStep {
  /** What to give the sessions now. */
  readonly announce: readonly PeerRoutes[];
  /** Kept across plans while the node is leaving, so a re-plan does not start the wait again. */
  readonly drain: Drain | undefined;
  /** When to plan again (the end of the wait); absent when nothing waits. */
  readonly wakeAt?: number;
}

/**
 * Phases of a node that leaves while its speaker runs: serving (the plan as it is);
 * draining (from the moment it leaves, for drainMs: what it announced, marked, to the
 * peers it still has); withdrawn (the plan, i.e. nothing). A node that comes back
 * during or after the drain serves again at once.
 */
export function drainStep(input: DrainInput): DrainStep {
  const { plan, leaving, now, drainMs } = input;
  if (!leaving) return { announce: plan, drain: undefined };
  let drain = input.drain;
  if (drain === undefined) {
    const held = new Map(input.announced.filter((p) => p.routes.size > 0).map((p) => [p.peer.name, p.routes]));
    // Nothing announced, or no wait configured: nothing to drain.
    if (held.size === 0 || drainMs <= 0) return { announce: plan, drain: { since: now, held: new Map() } };
    drain = { since: now, held };
  }
  const until = drain.since + drainMs;
  if (now >= until || drain.held.size === 0) return { announce: plan, drain };
  const announce = plan.map((p) => {
    const held = drain.held.get(p.peer.name);
    if (!held) return p;
    // Routes the plan still gives (another advertisement) keep their own attributes, marked too.
    const routes = gracefulShutdownRoutes(new Map([...held, ...p.routes]));
    const services = new Map([...(input.announced.find((a) => a.peer.name === p.peer.name)?.services ?? []), ...p.services]);
    return { peer: p.peer, routes, services };
  });
  return { announce, drain, wakeAt: until };
}

// ---- A speaker that stops -------------------------------------------------------------

/** What a stopping speaker does with one session. */
export type StopAction =
  /** Close without NOTIFICATION: the peer keeps the routes, stale, while we restart (RFC 4724 4.2). */
  | 'restart'
  /** Announce the routes marked (RFC 8326), wait, then Cease. */
  | 'drain'
  /** Cease / Administrative Shutdown now (RFC 4486): nothing to drain, or no wait configured. */
  | 'close';

export interface StoppingSession {
  readonly established: boolean;
  /** Graceful restart negotiated on this connection (RFC 4724 3). */
  readonly gracefulRestart: boolean;
  /** Prefixes the peer has from us. */
  readonly announced: number;
}

/**
 * A SIGTERM is a restart (an upgrade, a rollout) unless the node is being drained
 * (cordoned, or tainted for removal by the cluster autoscaler): a restarting speaker's
 * node keeps forwarding, so with graceful restart its routes are best kept in place; a
 * drained node is going away, so its routes must move before it does, whatever graceful
 * restart says (kept stale, they would draw traffic to a dead node for the restart time).
 */
export function stopAction(s: StoppingSession, nodeDraining: boolean, drainMs: number): StopAction {
  if (!s.established) return 'close';
  if (s.gracefulRestart && !nodeDraining) return 'restart';
  return s.announced > 0 && drainMs > 0 ? 'drain' : 'close';
}

/** The cluster autoscaler's taint on a node it is about to remove (it drains the node first). */
export const AUTOSCALER_DELETION_TAINT = 'ToBeDeletedByClusterAutoscaler';

/** A Node being drained: cordoned (`kubectl drain`/`cordon`), or marked for removal by the cluster autoscaler. */
export function nodeDraining(node: { readonly spec?: { readonly unschedulable?: boolean; readonly taints?: readonly { readonly key?: string }[] } } | undefined): boolean {
  return node?.spec?.unschedulable === true || (node?.spec?.taints ?? []).some((t) => t.key === AUTOSCALER_DELETION_TAINT);
}
