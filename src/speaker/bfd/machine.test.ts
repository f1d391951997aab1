// The BFD state machine played through RFC 5880's sequences with chosen times: no
// socket, no timer. Packets from the peer are written out field by field here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../time/clock.ts';
import { bfdStep, INITIAL_BFD_STATE, jittered, type BFDAction, type BFDEvent, type BFDMachineParams, type BFDMachineState } from './machine.ts';
import { DIAG, type BFDState, type ControlPacket } from './packet.ts';

const PROFILE = { name: 'fast', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, echoMode: false, passiveMode: false, minimumTtl: 254 };
const MINE = 0x1111;
const PEERS = 0x2222;
const params: BFDMachineParams = { profile: PROFILE, myDiscriminator: MINE };

/** A control packet from the peer: 300 ms both ways, multiplier 3, unless told otherwise. */
function fromPeer(state: BFDState, extra: Partial<ControlPacket> = {}): BFDEvent {
  return {
    type: 'received',
    packet: {
      diag: 0, state, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3,
      myDiscriminator: PEERS, yourDiscriminator: state === 'down' ? 0 : MINE,
      desiredMinTxInterval: 300_000, requiredMinRxInterval: 300_000, requiredMinEchoRxInterval: 0, ...extra,
    },
  };
}

/** Plays events at the clock's times; each entry advances the clock first. */
function play(steps: readonly [advanceMs: number, event: BFDEvent][], p: BFDMachineParams = params, from: BFDMachineState = INITIAL_BFD_STATE) {
  const clock = new ManualClock(1_000_000);
  let state = from;
  const log: { at: number; actions: readonly BFDAction[]; state: BFDMachineState }[] = [];
  for (const [advance, event] of steps) {
    clock.advance(advance);
    const r = bfdStep(p, state, event, clock.now());
    state = r.state;
    log.push({ at: clock.now(), actions: r.actions, state });
  }
  return { state, log, last: log[log.length - 1]! };
}

const sent = (actions: readonly BFDAction[]): ControlPacket[] => actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []));
const changes = (actions: readonly BFDAction[]): string[] => actions.flatMap((a) => (a.type === 'state-changed' ? [`${a.from}->${a.to}/${a.diag}`] : []));
const schedule = (actions: readonly BFDAction[]): number | undefined => actions.flatMap((a) => (a.type === 'schedule-transmit' ? [a.intervalMs] : []))[0];

describe('BFD state machine (RFC 5880 6.8.6)', () => {
  it('comes up by the three-way handshake: Down, peer Down -> Init, peer Up -> Up', () => {
    const r = play([
      [0, { type: 'start' }],
      [100, fromPeer('down')],
      [100, fromPeer('up')],
    ]);
    const [start, init, up] = r.log;
    assert.equal(sent(start!.actions)[0]!.state, 'down', 'it speaks first (not passive)');
    assert.equal(sent(start!.actions)[0]!.yourDiscriminator, 0, 'bfd.RemoteDiscr is 0 until the peer is heard');
    assert.deepEqual(changes(init!.actions), ['down->init/0']);
    assert.equal(sent(init!.actions)[0]!.yourDiscriminator, PEERS, 'Init echoes the peer discriminator');
    assert.deepEqual(changes(up!.actions), ['init->up/0']);
    assert.equal(r.state.state, 'up');
  });

  it('goes straight from Down to Up when the peer is already in Init', () => {
    const r = play([[0, { type: 'start' }], [10, fromPeer('init')]]);
    assert.deepEqual(changes(r.last.actions), ['down->up/0']);
  });

  it('sends at most once a second until Up (6.8.3), then at the agreed rate with a Poll Sequence (6.5)', () => {
    const r = play([[0, { type: 'start' }], [10, fromPeer('down')], [10, fromPeer('up')], [10, fromPeer('up', { final: true })]]);
    const [start, init, up, final] = r.log;
    assert.equal(schedule(start!.actions), 1000);
    assert.equal(sent(start!.actions)[0]!.desiredMinTxInterval, 1_000_000);
    assert.equal(schedule(init!.actions), undefined, 'Down -> Init keeps the slow timer running');
    assert.equal(schedule(up!.actions), 300, 'reaching Up restarts the timer at the new rate at once');
    assert.equal(sent(up!.actions)[0]!.poll, true, 'the rate change is polled');
    assert.equal(sent(up!.actions)[0]!.desiredMinTxInterval, 300_000);
    assert.equal(final!.state.polling, false, 'the peer’s Final ends the Poll Sequence');
  });

  it('answers a Poll with a Final at once (6.5)', () => {
    const r = play([[0, { type: 'start' }], [10, fromPeer('down')], [10, fromPeer('up')], [10, fromPeer('up', { poll: true })]]);
    const answer = sent(r.last.actions);
    assert.equal(answer.length, 1);
    assert.equal(answer[0]!.final, true);
    assert.equal(answer[0]!.poll, false, 'never P and F together');
  });

  it('detects a silent peer after detectMult x the agreed interval (6.8.4), with diag 1', () => {
    const r = play([[0, { type: 'start' }], [10, fromPeer('down')], [10, fromPeer('up')]]);
    const armed = r.last.actions.find((a) => a.type === 'arm-detection');
    assert.deepEqual(armed, { type: 'arm-detection', atMs: r.last.at + 900 }, '3 x max(our 300 ms RX, their 300 ms TX)');
    const early = bfdStep(params, r.state, { type: 'detection-timer' }, r.last.at + 899);
    // A timer that fires early (re-armed since, or Node's timers a millisecond ahead of
    // Date.now()) changes nothing, and the deadline is armed again so it is not lost.
    assert.deepEqual(early.actions, [{ type: 'arm-detection', atMs: r.last.at + 900 }]);
    assert.equal(early.state, r.state);
    const late = bfdStep(params, r.state, { type: 'detection-timer' }, r.last.at + 900);
    assert.deepEqual(changes(late.actions), [`up->down/${DIAG.detectionTimeExpired}`]);
    assert.equal(late.state.yourDiscriminator, 0, 'bfd.RemoteDiscr is forgotten');
    assert.equal(late.state.remote, undefined);
    assert.equal(schedule(late.actions), 1000, 'back to the slow rate');
  });

  it('uses the slower of our RX and the peer TX for detection', () => {
    const r = play([[0, { type: 'start' }], [0, fromPeer('down', { desiredMinTxInterval: 1_000_000, detectMult: 5 })]]);
    assert.deepEqual(r.last.actions.find((a) => a.type === 'arm-detection'), { type: 'arm-detection', atMs: r.last.at + 5000 });
  });

  it('goes Down with diag 3 when the peer says Down or AdminDown', () => {
    for (const said of ['down', 'adminDown'] as const) {
      const r = play([[0, { type: 'start' }], [10, fromPeer('down')], [10, fromPeer('up')], [10, fromPeer(said)]]);
      assert.deepEqual(changes(r.last.actions), [`up->down/${DIAG.neighborSignaledDown}`], said);
    }
  });

  it('discards a packet for another session (Your Discriminator not ours)', () => {
    const r = play([[0, { type: 'start' }], [10, fromPeer('init', { yourDiscriminator: 0x9999 })]]);
    assert.deepEqual(r.last.actions, []);
    assert.equal(r.state.state, 'down');
  });

  it('in passive mode sends nothing until the peer is heard (6.8.2)', () => {
    const passive = { ...params, profile: { ...PROFILE, passiveMode: true } };
    const r = play([[0, { type: 'start' }], [1000, { type: 'transmit-timer' }], [10, fromPeer('down')]], passive);
    assert.deepEqual(sent(r.log[0]!.actions), []);
    assert.deepEqual(sent(r.log[1]!.actions), []);
    assert.equal(sent(r.log[2]!.actions)[0]!.state, 'init');
  });

  it('on stop sends AdminDown with diag 7 (6.8.16), closes, and then ignores everything', () => {
    const r = play([[0, { type: 'start' }], [10, fromPeer('down')], [10, fromPeer('up')], [10, { type: 'stop' }], [10, fromPeer('up')], [10, { type: 'transmit-timer' }]]);
    const stop = r.log[3]!;
    assert.deepEqual(sent(stop.actions).map((p) => [p.state, p.diag]), [['adminDown', DIAG.adminDown]]);
    assert.ok(stop.actions.some((a) => a.type === 'close'));
    assert.deepEqual(r.log[4]!.actions, []);
    assert.deepEqual(r.log[5]!.actions, []);
  });

  it('jitters each interval to 75-100% of itself (6.8.7)', () => {
    assert.equal(jittered(1000, 0), 750);
    assert.equal(jittered(1000, 0.999999) < 1000, true);
  });
});
