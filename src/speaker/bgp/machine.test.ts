// The BGP session state machine played through RFC 4271's event sequences (and RFC 4724
// graceful restart, RFC 9384 BFD Down) with a ManualClock: no socket. The harness is a
// driver of the least kind: it arms the machine's timers on the clock, so a timer
// expires only when the clock is advanced past its deadline, and it records every
// action with the time it was taken.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../time/clock.ts';
import type { Timer } from '../../time/clock.ts';
import type { BGPPeer } from '../../config/model.ts';
import { bgpStep, GR_RESTART_TIME_S, INITIAL_BGP_STATE, MAX_IDLE_HOLD_MS, OPEN_SENT_HOLD_S, type BGPAction, type BGPEvent, type BGPMachineParams, type BGPMachineState, type BGPTimer } from './machine.ts';
import { AS_TRANS, type BGPMessage, type OpenMessage } from './messages.ts';

const PEER: BGPPeer = {
  name: 'router', myASN: 64513, peerASN: 64512, peerAddress: '198.18.0.1', peerPort: 179, holdTime: 9, keepaliveTime: 3,
  ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false,
};
const PARAMS: BGPMachineParams = { peer: PEER, routerID: '198.18.0.11', idleHoldMs: 2000, bfd: false };

/** The peer's OPEN: AS 64512, hold time 90 s, unless told otherwise. */
function peerOpen(extra: Partial<OpenMessage> = {}, capabilities: Partial<OpenMessage['capabilities']> = {}): BGPEvent {
  const message: OpenMessage = {
    type: 'open', version: 4, myAS: 64512, holdTime: 90, routerID: '198.18.0.1',
    ...extra,
    capabilities: { multiprotocol: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAS: extra.myAS ?? 64512, routeRefresh: true, unknown: [], ...capabilities },
  };
  return { type: 'message', message };
}
const KEEPALIVE: BGPEvent = { type: 'message', message: { type: 'keepalive' } };
const CONNECTED: BGPEvent = { type: 'tcp-connected', justStarted: false };

class Harness {
  readonly clock = new ManualClock(1_000_000);
  readonly params: BGPMachineParams;
  state: BGPMachineState = INITIAL_BGP_STATE;
  readonly log: { at: number; event: BGPEvent; actions: readonly BGPAction[] }[] = [];
  readonly #timers = new Map<BGPTimer, Timer>();

  constructor(params: Partial<BGPMachineParams> = {}, peer: Partial<BGPPeer> = {}) {
    this.params = { ...PARAMS, ...params, peer: { ...(params.peer ?? PEER), ...peer } };
  }

  feed(...events: BGPEvent[]): readonly BGPAction[] {
    const actions: BGPAction[] = [];
    for (const event of events) {
      const r = bgpStep(this.params, this.state, event, this.clock.now());
      this.state = r.state;
      this.log.push({ at: this.clock.now(), event, actions: r.actions });
      actions.push(...r.actions);
      for (const a of r.actions) {
        if (a.type === 'arm') {
          this.#timers.get(a.timer)?.cancel();
          const timer = a.timer;
          this.#timers.set(timer, this.clock.setTimeout(() => this.feed({ type: 'timer', timer }), a.atMs - this.clock.now()));
        } else if (a.type === 'disarm') {
          this.#timers.get(a.timer)?.cancel();
        }
      }
    }
    return actions;
  }

  /** Advances the clock; returns the actions of the timers that expired meanwhile. */
  advance(ms: number): readonly BGPAction[] {
    const from = this.log.length;
    this.clock.advance(ms);
    return this.log.slice(from).flatMap((e) => e.actions);
  }

  /** Start, connect, exchange OPENs and KEEPALIVEs: Established. */
  establish(open: BGPEvent = peerOpen()): readonly BGPAction[] {
    return this.feed({ type: 'start' }, CONNECTED, open, KEEPALIVE);
  }

  /** The times the clock was at when the machine sent each message of this type. */
  sentAt(type: BGPMessage['type']): number[] {
    return this.log.flatMap((e) => e.actions.filter((a) => a.type === 'send' && a.message.type === type).map(() => e.at));
  }
}

const sent = (actions: readonly BGPAction[]): BGPMessage[] => actions.flatMap((a) => (a.type === 'send' ? [a.message] : []));
const notifications = (actions: readonly BGPAction[]): string[] => sent(actions).flatMap((m) => (m.type === 'notification' ? [`${m.code}/${m.subcode}`] : []));
const transitions = (actions: readonly BGPAction[]): string[] => actions.flatMap((a) => (a.type === 'state-changed' ? [`${a.from}->${a.to}`] : []));
const down = (actions: readonly BGPAction[]) => actions.find((a) => a.type === 'session-down');
const has = (actions: readonly BGPAction[], type: BGPAction['type']): boolean => actions.some((a) => a.type === type);

describe('BGP session state machine (RFC 4271 8)', () => {
  it('comes up Idle -> Connect -> OpenSent -> OpenConfirm -> Established (8.2.2)', () => {
    const h = new Harness();
    const start = h.feed({ type: 'start' });
    assert.deepEqual(start, [{ type: 'connect' }, { type: 'state-changed', from: 'idle', to: 'connect' }]);
    const connected = h.feed(CONNECTED);
    const [open] = sent(connected);
    assert.deepEqual(open, {
      type: 'open', version: 4, myAS: 64513, holdTime: 9, routerID: '198.18.0.11',
      capabilities: { multiprotocol: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAS: 64513, routeRefresh: true, unknown: [] },
    });
    assert.equal(h.state.hold?.atMs, h.clock.now() + OPEN_SENT_HOLD_S * 1000, 'OpenSent: the hold timer is "a large value" (4 minutes)');
    const confirm = h.feed(peerOpen());
    assert.deepEqual(sent(confirm), [{ type: 'keepalive' }], 'an acceptable OPEN is answered with a KEEPALIVE');
    assert.equal(h.state.holdTime, 9, 'the smaller hold time of the two (4.2)');
    assert.equal(h.state.hold?.atMs, h.clock.now() + 9000);
    const up = h.feed(KEEPALIVE);
    assert.deepEqual(transitions(h.log.flatMap((e) => e.actions)), ['idle->connect', 'connect->open-sent', 'open-sent->open-confirm', 'open-confirm->established']);
    // RFC 4724 2: every route, then End-of-RIB for both families.
    const order = up.filter((a) => a.type === 'send-routes' || a.type === 'send').map((a) => (a.type === 'send' && a.message.type === 'update' ? `EoR ${a.message.attributes.mpUnreach ? 'v6' : 'v4'}` : a.type));
    assert.deepEqual(order, ['send-routes', 'EoR v4', 'EoR v6']);
    assert.deepEqual(up.find((a) => a.type === 'send-routes'), { type: 'send-routes', full: true });
    assert.equal(has(up, 'start-bfd'), false, 'no BFD without a BFDProfile');
  });

  it('sends the 2-byte AS_TRANS and the real ASN in the 4-octet AS capability (RFC 6793 4.1)', () => {
    const h = new Harness({}, { myASN: 4_200_000_000 });
    const [open] = sent(h.feed({ type: 'start' }, CONNECTED));
    assert.equal(open?.type === 'open' && open.myAS, AS_TRANS);
    assert.equal(open?.type === 'open' && open.capabilities.fourOctetAS, 4_200_000_000);
    const local = new Harness({}, { localASN: 65100, routerID: '10.0.0.1' });
    const [open2] = sent(local.feed({ type: 'start' }, CONNECTED));
    assert.equal(open2?.type === 'open' && `${open2.myAS} ${open2.routerID}`, '65100 10.0.0.1', 'localASN and the peer’s routerID win');
  });

  it('sends a KEEPALIVE every keepaliveTime, at most a third of the hold time, at least every second (RFC 4271 10)', () => {
    const h = new Harness();
    h.establish();
    const t0 = h.clock.now();
    // The peer keeps talking, so the hold timer never expires.
    for (let i = 0; i < 4; i++) {
      h.advance(2500);
      h.feed(KEEPALIVE);
    }
    assert.deepEqual(h.sentAt('keepalive').filter((t) => t > t0).map((t) => t - t0), [3000, 6000, 9000]);
    for (const [keepaliveTime, holdTime, every] of [[30, 90, 30_000], [60, 90, 30_000], [0, 90, 30_000], [1, 3, 1000]] as const) {
      const k = new Harness({}, { keepaliveTime, holdTime });
      k.establish();
      assert.equal(k.state.keepaliveAt! - k.clock.now(), every, `keepaliveTime ${keepaliveTime}, hold ${holdTime}`);
    }
  });

  it('restarts the hold timer with every message, and sends Hold Timer Expired when the peer goes silent (8.2.2 Event 10)', () => {
    const h = new Harness();
    h.establish();
    h.advance(8000);
    h.feed(KEEPALIVE);
    assert.equal(notifications(h.advance(8999)).length, 0, 'the keepalive at 8 s moved the deadline to 17 s');
    const expired = h.advance(1);
    assert.deepEqual(notifications(expired), ['4/0']);
    assert.deepEqual(transitions(expired), ['established->idle']);
    assert.ok(has(expired, 'drop-connection') && has(expired, 'stop-bfd'));
    assert.deepEqual(down(expired), { type: 'session-down', error: { code: 'EBGPSENT', message: 'we sent NOTIFICATION Hold Timer Expired: nothing heard from the peer for 9 s' }, wasEstablished: true, retryInMs: 2000 });
    assert.equal(h.state.hold, undefined);
    assert.equal(h.state.keepaliveAt, undefined, 'no KEEPALIVE on a closed connection');
  });

  it('a timer event before its deadline changes nothing but arms the timer again for that deadline', () => {
    const h = new Harness();
    h.establish();
    // Node's timers may fire a millisecond early against Date.now(): without the re-arm
    // a session sent no KEEPALIVE again and its peer's hold timer expired (seen in the lab).
    const early = bgpStep(h.params, h.state, { type: 'timer', timer: 'hold' }, h.state.hold!.atMs - 1);
    assert.deepEqual(early.actions, [{ type: 'arm', timer: 'hold', atMs: h.state.hold!.atMs }]);
    assert.equal(early.state, h.state);
    const keepalive = bgpStep(h.params, h.state, { type: 'timer', timer: 'keepalive' }, h.state.keepaliveAt! - 1);
    assert.deepEqual(keepalive.actions, [{ type: 'arm', timer: 'keepalive', atMs: h.state.keepaliveAt! }]);
    assert.equal(keepalive.state, h.state);
    const idleHold = bgpStep(h.params, h.state, { type: 'timer', timer: 'idle-hold' }, h.clock.now() + 1e9);
    assert.deepEqual(idleHold.actions, [], 'no IdleHoldTimer runs while Established');
  });

  it('with hold time 0 sends no KEEPALIVE and runs no hold timer once Established (4.2)', () => {
    const h = new Harness({}, { holdTime: 0 });
    h.feed({ type: 'start' }, CONNECTED, peerOpen());
    assert.equal(h.state.hold?.atMs, h.clock.now() + OPEN_SENT_HOLD_S * 1000, 'OpenConfirm still waits at most 4 minutes for the KEEPALIVE');
    const up = h.feed(KEEPALIVE);
    assert.ok(up.some((a) => a.type === 'disarm' && a.timer === 'hold'));
    assert.equal(h.state.hold, undefined);
    assert.equal(h.state.keepaliveAt, undefined);
    assert.deepEqual(h.advance(3_600_000), []);
    assert.equal(h.state.state, 'established');
  });

  it('goes back to Idle when the connection fails, and connects again after the IdleHoldTimer, doubling up to 60 s (8.1.1)', () => {
    const h = new Harness();
    h.feed({ type: 'start' });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const failed = h.feed({ type: 'tcp-failed', reason: 'connect ECONNREFUSED 198.18.0.1:179' });
      assert.deepEqual(transitions(failed), ['connect->idle']);
      const d = down(failed);
      assert.equal(d?.type === 'session-down' && `${d.error?.code} ${d.error?.message}`, 'EBGPCONNECTION connection: connect ECONNREFUSED 198.18.0.1:179');
      waits.push(d?.type === 'session-down' ? d.retryInMs! : -1);
      assert.deepEqual(h.advance(waits[i]! - 1), [], 'not before the IdleHoldTimer expires');
      assert.deepEqual(h.advance(1)[0], { type: 'connect' });
    }
    assert.deepEqual(waits, [2000, 4000, 8000, 16_000, 32_000, MAX_IDLE_HOLD_MS, MAX_IDLE_HOLD_MS, MAX_IDLE_HOLD_MS]);
    h.feed(CONNECTED, peerOpen(), KEEPALIVE);
    assert.equal(h.state.failures, 0, 'reaching Established resets the backoff');
    const lost = h.feed({ type: 'tcp-failed', reason: 'closed by the peer' });
    assert.deepEqual(down(lost), { type: 'session-down', error: { code: 'EBGPCONNECTION', message: 'connection: closed by the peer' }, wasEstablished: true, retryInMs: 2000 });
  });

  it('ignores connection failures while Idle (nothing is open)', () => {
    const h = new Harness();
    h.feed({ type: 'start' }, { type: 'tcp-failed', reason: 'x' });
    assert.deepEqual(h.feed({ type: 'tcp-failed', reason: 'y' }), []);
  });

  it('refuses a peer with the wrong AS: OPEN Message Error / Bad Peer AS with its 2-byte AS as data (6.2)', () => {
    const h = new Harness();
    const actions = h.feed({ type: 'start' }, CONNECTED, peerOpen({ myAS: 65000 }));
    const [n] = sent(actions).filter((m) => m.type === 'notification');
    assert.equal(n?.type === 'notification' && `${n.code}/${n.subcode} ${n.data.toString('hex')}`, '2/2 fde8');
    assert.equal(h.state.state, 'idle');
    assert.ok(h.state.idleHoldAt !== undefined, 'and tries again');
  });

  it('checks dynamicASN: internal wants our AS, external any other', () => {
    const cases = [['internal', 64513, 'open-confirm'], ['internal', 64512, 'idle'], ['external', 64512, 'open-confirm'], ['external', 64513, 'idle']] as const;
    for (const [dynamicASN, peerAS, state] of cases) {
      const { peerASN: _, ...peer } = { ...PEER, dynamicASN };
      const h = new Harness({ peer });
      h.feed({ type: 'start' }, CONNECTED, peerOpen({ myAS: peerAS }));
      assert.equal(h.state.state, state, `${dynamicASN} ${peerAS}`);
    }
  });

  it('answers an OPEN after OpenSent with a Finite State Machine Error naming the state (6.6, RFC 6608 3)', () => {
    const confirm = new Harness();
    assert.deepEqual(notifications(confirm.feed({ type: 'start' }, CONNECTED, peerOpen(), peerOpen())), ['5/2']);
    const established = new Harness();
    established.establish();
    assert.deepEqual(notifications(established.feed(peerOpen())), ['5/3']);
    assert.equal(established.state.state, 'idle');
  });

  it('closes without answering a NOTIFICATION from the peer, and says what it was (Event 24/25)', () => {
    const h = new Harness();
    h.establish();
    const actions = h.feed({ type: 'message', message: { type: 'notification', code: 6, subcode: 2, data: Buffer.from('bye') } });
    assert.deepEqual(notifications(actions), []);
    assert.deepEqual(down(actions), { type: 'session-down', error: { code: 'EBGPRECEIVED', message: 'the peer sent NOTIFICATION Cease / Administrative Shutdown (data 627965)' }, wasEstablished: true, retryInMs: 2000 });
  });

  it('answers a malformed message with the NOTIFICATION the codec chose (Events 21, 22, 28)', () => {
    const h = new Harness();
    h.feed({ type: 'start' }, CONNECTED);
    const actions = h.feed({ type: 'message-error', error: { type: 'error', action: 'session-reset', rule: 'RFC 4271 §6.1', code: 1, subcode: 1, data: Buffer.alloc(0), reason: 'marker is not all ones' } });
    assert.deepEqual(notifications(actions), ['1/1']);
    const d = down(actions);
    assert.equal(d?.type === 'session-down' && `${d.error?.code} ${d.error?.message}`, 'EBGPSENT we sent NOTIFICATION Message Header Error / Connection Not Synchronized: malformed message from the peer: marker is not all ones');
    assert.deepEqual(h.feed({ type: 'message-error', error: { type: 'error', action: 'session-reset', rule: 'RFC 4271 §6.1', code: 1, subcode: 1, data: Buffer.alloc(0), reason: 'again' } }), [], 'nothing more on a dropped connection');
  });

  it('RFC 7606: a treat-as-withdraw or attribute-discard UPDATE keeps an Established session (no NOTIFICATION, hold timer re-armed); AFI/SAFI disable resets it', () => {
    const mild = (action: 'treat-as-withdraw' | 'attribute-discard' | 'afi-safi-disable') =>
      ({ type: 'error', action, rule: 'RFC 7606 §7.1', code: 3, subcode: 6, data: Buffer.from('40010102', 'hex'), reason: 'UPDATE: attribute ORIGIN has value 2' }) as const;
    for (const action of ['treat-as-withdraw', 'attribute-discard'] as const) {
      const h = new Harness();
      h.establish();
      const actions = h.feed({ type: 'message-error', error: mild(action) });
      assert.deepEqual(notifications(actions), []);
      assert.equal(h.state.state, 'established');
      assert.ok(actions.some((a) => a.type === 'arm' && a.timer === 'hold'), 'the UPDATE counts as heard');
      assert.deepEqual(actions.filter((a) => a.type === 'malformed-update').length, 1);
    }
    const h = new Harness();
    h.establish();
    assert.deepEqual(notifications(h.feed({ type: 'message-error', error: mild('afi-safi-disable') })), ['3/6']);
    assert.equal(h.state.state, 'idle');
    // Before Established the same error resets: an UPDATE there is wrong whatever it holds.
    const early = new Harness();
    early.feed({ type: 'start' }, CONNECTED);
    assert.deepEqual(notifications(early.feed({ type: 'message-error', error: mild('treat-as-withdraw') })), ['3/6']);
  });

  it('sends the routes again on ROUTE-REFRESH (RFC 2918), and changes only while Established', () => {
    const h = new Harness();
    assert.deepEqual(h.feed({ type: 'routes-changed' }), [], 'nothing to send to before Established');
    h.establish();
    assert.deepEqual(h.feed({ type: 'routes-changed' }), [{ type: 'send-routes', full: false }]);
    assert.deepEqual(h.feed({ type: 'message', message: { type: 'route-refresh', family: 'ipv4-unicast' } }).filter((a) => a.type === 'send-routes'), [{ type: 'send-routes', full: true }]);
    assert.equal(h.state.state, 'established', 'UPDATEs from the peer are taken and ignored');
    h.feed({ type: 'message', message: { type: 'update', withdrawn: [], attributes: {}, nlri: [] } });
    assert.equal(h.state.state, 'established');
  });

  it('closes when a message cannot be encoded, and the process goes on', () => {
    const h = new Harness();
    h.feed({ type: 'start' }, CONNECTED);
    const actions = h.feed({ type: 'send-failed', reason: 'open: bad router ID' });
    assert.deepEqual(transitions(actions), ['open-sent->idle']);
    const d = down(actions);
    assert.deepEqual(d?.type === 'session-down' && d.error, { code: 'EBGPENCODE', message: 'cannot encode a message: open: bad router ID' });
    assert.equal(h.state.idleHoldAt, h.clock.now() + 2000);
  });

  it('has nothing to connect to for an unnumbered peer (interface, no address)', () => {
    const { peerAddress: _, ...peer } = { ...PEER, interface: 'eth1' };
    const h = new Harness({ peer });
    assert.deepEqual(h.feed({ type: 'start' }), []);
    assert.equal(h.state.state, 'idle');
  });

  it('on stop sends Cease / Administrative Shutdown (RFC 4486), closes, and then ignores everything (Event 2)', () => {
    const h = new Harness();
    h.establish();
    const stop = h.feed({ type: 'stop', restarting: false });
    assert.deepEqual(notifications(stop), ['6/2']);
    assert.deepEqual(down(stop), { type: 'session-down', wasEstablished: true });
    assert.equal(h.state.stopped, true);
    assert.deepEqual(h.feed({ type: 'start' }, KEEPALIVE, { type: 'timer', timer: 'idle-hold' }), []);
    assert.deepEqual(h.advance(3_600_000), [], 'no timer is left');
  });

  it('stopping before OpenSent sends no NOTIFICATION (no BGP connection yet), and from Idle cancels the retry', () => {
    const connecting = new Harness();
    const stop = connecting.feed({ type: 'start' }, { type: 'stop', restarting: false });
    assert.deepEqual(notifications(stop), []);
    assert.ok(has(stop, 'drop-connection'), 'a connect in flight is dropped');
    const idle = new Harness();
    idle.feed({ type: 'start' }, { type: 'tcp-failed', reason: 'refused' });
    const stopIdle = idle.feed({ type: 'stop', restarting: false });
    assert.deepEqual(stopIdle, [{ type: 'disarm', timer: 'idle-hold' }]);
    assert.deepEqual(idle.advance(60_000), [], 'no reconnect after stop');
  });
});

describe('BGP graceful restart (RFC 4724)', () => {
  it('advertises the capability: restart time, R bit while just started, F for both families', () => {
    for (const justStarted of [true, false]) {
      const h = new Harness({}, { enableGracefulRestart: true });
      const [open] = sent(h.feed({ type: 'start' }, { type: 'tcp-connected', justStarted }));
      assert.deepEqual(open?.type === 'open' && open.capabilities.gracefulRestart, { restartTime: GR_RESTART_TIME_S, restarting: justStarted, families: ['ipv4-unicast', 'ipv6-unicast'], forwardingPreserved: true });
    }
  });

  it('stopping to restart closes without a NOTIFICATION when both sides advertised it (4.2)', () => {
    const gr = { restartTime: 120, restarting: false, families: ['ipv4-unicast'] as const };
    const h = new Harness({}, { enableGracefulRestart: true });
    h.establish(peerOpen({}, { gracefulRestart: gr }));
    assert.equal(h.state.gracefulRestart, true);
    const stop = h.feed({ type: 'stop', restarting: true });
    assert.deepEqual(notifications(stop), []);
    assert.ok(has(stop, 'drop-connection'));
    assert.deepEqual(down(stop), { type: 'session-down', wasEstablished: true, graceful: true });
  });

  it('still sends Cease when the peer did not advertise it, or when the stop is not a restart', () => {
    const oneSided = new Harness({}, { enableGracefulRestart: true });
    oneSided.establish();
    assert.equal(oneSided.state.gracefulRestart, false);
    assert.deepEqual(notifications(oneSided.feed({ type: 'stop', restarting: true })), ['6/2']);
    const notRestarting = new Harness({}, { enableGracefulRestart: true });
    notRestarting.establish(peerOpen({}, { gracefulRestart: { restartTime: 120, restarting: false, families: ['ipv4-unicast'] } }));
    assert.deepEqual(notifications(notRestarting.feed({ type: 'stop', restarting: false })), ['6/2']);
    const notConfigured = new Harness();
    notConfigured.establish(peerOpen({}, { gracefulRestart: { restartTime: 120, restarting: false, families: ['ipv4-unicast'] } }));
    assert.deepEqual(notifications(notConfigured.feed({ type: 'stop', restarting: true })), ['6/2'], 'our side did not advertise it');
  });

  it('forgets the negotiation with the connection', () => {
    const h = new Harness({}, { enableGracefulRestart: true });
    h.establish(peerOpen({}, { gracefulRestart: { restartTime: 120, restarting: false, families: ['ipv4-unicast'] } }));
    h.feed({ type: 'tcp-failed', reason: 'reset' });
    assert.equal(h.state.gracefulRestart, false);
  });
});

describe('BGP and BFD (RFC 5882 4.3, RFC 9384)', () => {
  it('starts BFD when Established, and closes with Cease / BFD Down when the path goes down', () => {
    const h = new Harness({ bfd: true });
    assert.ok(has(h.establish(), 'start-bfd'));
    assert.deepEqual(h.feed({ type: 'bfd', state: 'down' }, { type: 'bfd', state: 'init' }), [], 'Down before Up is BFD coming up');
    h.feed({ type: 'bfd', state: 'up' });
    const actions = h.feed({ type: 'bfd', state: 'down' });
    assert.deepEqual(notifications(actions), ['6/10']);
    assert.deepEqual(down(actions), { type: 'session-down', error: { code: 'EBGPSENT', message: 'we sent NOTIFICATION Cease / BFD Down: BFD reports the path to the peer down' }, wasEstablished: true, retryInMs: 2000 });
    assert.ok(has(actions, 'stop-bfd'));
  });

  it('takes no BFD state from before Established or from an earlier connection', () => {
    const h = new Harness({ bfd: true });
    h.establish();
    h.feed({ type: 'bfd', state: 'up' }, { type: 'tcp-failed', reason: 'reset' });
    assert.deepEqual(h.feed({ type: 'bfd', state: 'down' }), [], 'Idle: nothing to close');
    h.advance(2000);
    h.feed(CONNECTED, peerOpen(), KEEPALIVE);
    assert.deepEqual(h.feed({ type: 'bfd', state: 'down' }), [], 'this connection’s BFD has not been Up yet');
  });
});
