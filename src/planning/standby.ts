// What this node would take over if one live peer died, computed ahead of time, so that
// a failover announces at once instead of after a whole plan (a plan over 2,000 services
// is ~60 ms of CPU, several hundred ms of wall time on a loaded node: docs/L2.md "Taking
// over"). Pure: the same planner, once per live peer with that peer left out.
//
// Only additions are kept: they are exactly what the plan without that peer gives this
// node beyond what it has (the planner is deterministic, and the speaker uses a standby
// only while nothing else changed). The full plan, which follows in the same turn of the
// event loop, settles the rest (what a death takes from this node, if anything).
import { L2Planner, type IPAnnouncement, type L2Plan, type L2PlanInput } from './l2-plan.ts';

/** Peer -> the announcements this node would add if that peer left the live set. */
export type Standby = ReadonlyMap<string, readonly IPAnnouncement[]>;

/**
 * Each live peer but `node`, in name order, with what this node would add if that peer
 * left the live set: one whole plan per step. The speaker takes one step per turn of its
 * event loop (with 10,000 services a plan is about a second of CPU here, and all of them
 * at once were a stall past the heartbeat runway: docs/BENCHMARKS.md "Footprint").
 * `current`: planL2(input), which the caller already has; `planner`: the caller's, so
 * that every step reuses the part of the plan liveness does not change (L2Planner).
 */
export function* standbySteps(input: L2PlanInput, node: string, current?: L2Plan, planner = new L2Planner()): Generator<[peer: string, gained: IPAnnouncement[]]> {
  const mineIn = (plan: L2Plan) => new Map(plan.announcements.filter((a) => a.node === node).map((a) => [a.ip, a]));
  const now = mineIn(current ?? planner.plan(input));
  for (const peer of [...input.liveNodes].filter((n) => n !== node).sort()) {
    const without = new Set([...input.liveNodes].filter((n) => n !== peer));
    yield [peer, [...mineIn(planner.plan({ ...input, liveNodes: without })).values()].filter((a) => !now.has(a.ip))];
  }
}

/** The one peer that left between two live sets, if exactly one left and none joined. */
export function singleDeparture(before: ReadonlySet<string>, after: ReadonlySet<string>): string | undefined {
  if ([...after].some((n) => !before.has(n))) return undefined;
  const gone = [...before].filter((n) => !after.has(n));
  return gone.length === 1 ? gone[0] : undefined;
}
