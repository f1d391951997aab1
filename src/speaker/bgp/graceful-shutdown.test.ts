// Planned withdrawal (RFC 8326): the routes each phase announces, played on a manual
// clock as the speaker drives it (a timer at wakeAt plans again), and what a stopping
// speaker does with each session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../../time/clock.ts';
import type { BGPPeer } from '../../config/model.ts';
import type { PeerRoutes, RouteAttributes } from '../../planning/bgp-plan.ts';
import { ribOutChange } from './adj-rib-out.ts';
import {
  GRACEFUL_SHUTDOWN_COMMUNITY, drainStep, gracefulShutdownAttributes, gracefulShutdownRoutes, nodeDraining, stopAction, type Drain,
} from './graceful-shutdown.ts';

const peer = (name: string): BGPPeer => ({
  name, myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1', peerPort: 179, holdTime: 90, keepaliveTime: 30,
  ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false,
});
const TOR = peer('tor');
const WEB: RouteAttributes = { localPref: 200, communities: [64512 * 65536 + 100], largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] };
const serving: PeerRoutes[] = [{ peer: TOR, routes: new Map([['198.18.1.10/32', WEB]]), services: new Map([['198.18.1.10/32', ['ns/web']]]) }];
const excluded: PeerRoutes[] = [{ peer: TOR, routes: new Map(), services: new Map() }];

test('a drained route keeps its communities, gains GRACEFUL_SHUTDOWN (65535:0) and LOCAL_PREF 0', () => {
  assert.deepEqual(gracefulShutdownAttributes(WEB), {
    localPref: 0,
    communities: [64512 * 65536 + 100, 0xffff0000],
    largeCommunities: WEB.largeCommunities,
  });
  // Marking twice changes nothing.
  assert.deepEqual(gracefulShutdownAttributes(gracefulShutdownAttributes(WEB)), gracefulShutdownAttributes(WEB));
});

test('on the wire: LOCAL_PREF 0 towards an iBGP peer, only the community towards an eBGP peer (RFC 4271 5.1.5)', () => {
  const routes = gracefulShutdownRoutes(new Map([['198.18.1.10/32', WEB]]));
  const ends = (peerAS: number) => ({ myAS: 64513, peerAS, nextHop: () => '198.18.0.11' });
  const ibgp = ribOutChange(new Map(), routes, ends(64513)).updates[0]!;
  assert.equal(ibgp.attributes.localPref, 0);
  assert.deepEqual(ibgp.attributes.communities, [64512 * 65536 + 100, GRACEFUL_SHUTDOWN_COMMUNITY]);
  const ebgp = ribOutChange(new Map(), routes, ends(64512)).updates[0]!;
  assert.equal(ebgp.attributes.localPref, undefined);
  assert.deepEqual(ebgp.attributes.communities, [64512 * 65536 + 100, GRACEFUL_SHUTDOWN_COMMUNITY]);
  // A session that had the route unmarked sends it again (same prefix, new attributes), no withdrawal.
  const before = ribOutChange(new Map(), new Map([['198.18.1.10/32', WEB]]), ends(64513)).ribOut;
  const change = ribOutChange(before, routes, ends(64513));
  assert.deepEqual(change.updates.map((u) => [u.withdrawn, u.nlri]), [[[], ['198.18.1.10/32']]]);
});

/** The speaker's loop over drainStep: plan now, and again when the step asks (a timer on the clock). */
function drive(clock: ManualClock, drainMs: number) {
  let drain: Drain | undefined;
  let announced: readonly PeerRoutes[] = [];
  let plan: readonly PeerRoutes[] = serving;
  let leaving = false;
  let timer: { cancel(): void } | undefined;
  const log: { at: number; routes: Record<string, RouteAttributes> }[] = [];
  const step = () => {
    const s = drainStep({ plan, announced, leaving, drain, now: clock.now(), drainMs });
    drain = s.drain;
    announced = s.announce;
    timer?.cancel();
    timer = s.wakeAt === undefined ? undefined : clock.setTimeout(step, s.wakeAt - clock.now());
    log.push({ at: clock.now(), routes: Object.fromEntries(s.announce[0]!.routes) });
  };
  return {
    log,
    step,
    set(next: { plan?: readonly PeerRoutes[]; leaving?: boolean }) {
      if (next.plan) plan = next.plan;
      if (next.leaving !== undefined) leaving = next.leaving;
      step();
    },
    get announced() {
      return Object.fromEntries(announced[0]!.routes);
    },
    get drain() {
      return drain;
    },
  };
}

test('a node excluded from load balancers: its routes marked for the drain time, then withdrawn; a re-plan meanwhile does not restart the wait', () => {
  const clock = new ManualClock(1000);
  const d = drive(clock, 5000);
  d.step();
  assert.deepEqual(d.announced, { '198.18.1.10/32': WEB });
  d.set({ plan: excluded, leaving: true });
  assert.deepEqual(d.announced, { '198.18.1.10/32': gracefulShutdownAttributes(WEB) });
  clock.advance(3000);
  d.step(); // an unrelated change: same phase, same deadline
  assert.deepEqual(d.announced, { '198.18.1.10/32': gracefulShutdownAttributes(WEB) });
  clock.advance(1999);
  assert.deepEqual(d.announced, { '198.18.1.10/32': gracefulShutdownAttributes(WEB) }, 'still marked 1 ms before the deadline');
  clock.advance(1);
  assert.deepEqual(d.announced, {}, 'withdrawn at the deadline');
  assert.deepEqual(d.log.map((l) => [l.at, Object.keys(l.routes).length]), [[1000, 1], [1000, 1], [4000, 1], [6000, 0]]);
  assert.equal(clock.pending, 0, 'nothing left waiting');
  // Still excluded later: stays withdrawn, no new drain.
  clock.advance(60_000);
  d.step();
  assert.deepEqual(d.announced, {});
  assert.equal(clock.pending, 0);
});

test('a node that comes back during the drain serves again at once, unmarked; excluded again, it drains again', () => {
  const clock = new ManualClock();
  const d = drive(clock, 5000);
  d.step();
  d.set({ plan: excluded, leaving: true });
  clock.advance(2000);
  d.set({ plan: serving, leaving: false });
  assert.deepEqual(d.announced, { '198.18.1.10/32': WEB });
  assert.equal(d.drain, undefined);
  clock.advance(10_000);
  assert.deepEqual(d.announced, { '198.18.1.10/32': WEB }, 'the old deadline withdraws nothing');
  d.set({ plan: excluded, leaving: true });
  assert.deepEqual(d.announced, { '198.18.1.10/32': gracefulShutdownAttributes(WEB) });
  clock.advance(5000);
  assert.deepEqual(d.announced, {});
});

test('drain time 0, or nothing announced: withdrawn at once, no timer', () => {
  const clock = new ManualClock();
  const d = drive(clock, 0);
  d.step();
  d.set({ plan: excluded, leaving: true });
  assert.deepEqual(d.announced, {});
  assert.equal(clock.pending, 0);
  const fresh = drive(new ManualClock(), 5000);
  fresh.set({ plan: excluded, leaving: true });
  assert.deepEqual(fresh.announced, {});
});

test('property: while draining, exactly the prefixes announced before are announced, each marked; after the deadline, the plan', () => {
  const attrs = fc.record({
    localPref: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
    communities: fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 4 }).map((c) => c.sort((a, b) => a - b)),
    largeCommunities: fc.constant([]),
  }).map(({ localPref, ...rest }): RouteAttributes => (localPref === undefined ? rest : { localPref, ...rest }));
  const routes = fc.dictionary(fc.integer({ min: 1, max: 254 }).map((n) => `198.18.1.${n}/32`), attrs, { maxKeys: 8 });
  fc.assert(fc.property(routes, fc.integer({ min: 1, max: 30_000 }), fc.integer({ min: 0, max: 40_000 }), (before, drainMs, elapsed) => {
    const announced: PeerRoutes[] = [{ peer: TOR, routes: new Map(Object.entries(before)), services: new Map() }];
    const first = drainStep({ plan: excluded, announced, leaving: true, drain: undefined, now: 0, drainMs });
    const later = drainStep({ plan: excluded, announced: first.announce, leaving: true, drain: first.drain, now: elapsed, drainMs });
    const got = later.announce[0]!.routes;
    if (elapsed >= drainMs || Object.keys(before).length === 0) return got.size === 0 && later.wakeAt === undefined;
    return later.wakeAt === drainMs && got.size === Object.keys(before).length &&
      [...got].every(([p, r]) => before[p] !== undefined && r.localPref === 0 && r.communities.includes(GRACEFUL_SHUTDOWN_COMMUNITY) &&
        before[p]!.communities.every((c) => r.communities.includes(c)));
  }));
});

test('a stopping speaker: restart with graceful restart unless the node is drained; drain what is announced; close the rest', () => {
  const up = { established: true, gracefulRestart: false, announced: 3 };
  assert.equal(stopAction(up, false, 5000), 'drain');
  assert.equal(stopAction(up, true, 5000), 'drain');
  assert.equal(stopAction({ ...up, gracefulRestart: true }, false, 5000), 'restart', 'a SIGTERM with graceful restart is a restart');
  assert.equal(stopAction({ ...up, gracefulRestart: true }, true, 5000), 'drain', 'unless the node is being drained');
  assert.equal(stopAction({ ...up, gracefulRestart: true }, true, 0), 'close');
  assert.equal(stopAction(up, false, 0), 'close', 'no drain time: Cease at once');
  assert.equal(stopAction({ ...up, announced: 0 }, false, 5000), 'close', 'nothing announced: nothing to drain');
  assert.equal(stopAction({ ...up, established: false }, false, 5000), 'close');
  assert.equal(stopAction({ established: false, gracefulRestart: true, announced: 0 }, false, 5000), 'close');
});

test('a node is being drained when cordoned or tainted for removal by the cluster autoscaler', () => {
  assert.equal(nodeDraining(undefined), false);
  assert.equal(nodeDraining({}), false);
  assert.equal(nodeDraining({ spec: { unschedulable: false } }), false);
  assert.equal(nodeDraining({ spec: { unschedulable: true } }), true);
  assert.equal(nodeDraining({ spec: { taints: [{ key: 'node.kubernetes.io/not-ready' }] } }), false);
  assert.equal(nodeDraining({ spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }] } }), true);
});
