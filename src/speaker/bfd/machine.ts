// The BFD session state machine (RFC 5880 6.8), pure: (state, event, now) -> (state,
// actions). No socket, no timer, no randomness: the driver (session.ts) turns datagrams
// and timer expiries into events and carries out the actions, so every sequence of the
// RFC can be played here with chosen times.
import type { BFDProfile } from '../../config/model.ts';
import { DIAG, type BFDState, type ControlPacket } from './packet.ts';

export interface BFDMachineParams {
  readonly profile: BFDProfile;
  /** RFC 5880 6.8.1 bfd.LocalDiscr: nonzero, unique on this system (the driver draws it). */
  readonly myDiscriminator: number;
}

export interface BFDMachineState {
  readonly state: BFDState;
  readonly diag: number;
  /** bfd.RemoteDiscr: 0 until the peer is heard, and again after detection. */
  readonly yourDiscriminator: number;
  /** The last packet heard from the peer, while its session is alive. */
  readonly remote?: ControlPacket;
  /** A Poll Sequence is running: our packets carry P until the peer answers with F (6.5). */
  readonly polling: boolean;
  /** When the detection time runs out, ms on the driver's clock; undefined while unarmed. */
  readonly detectAt?: number;
  readonly stopped: boolean;
}

export type BFDEvent =
  | { readonly type: 'start' }
  /** A control packet from the peer's address, already parsed (6.8.6's checks on the header are parseControl's). */
  | { readonly type: 'received'; readonly packet: ControlPacket }
  | { readonly type: 'transmit-timer' }
  | { readonly type: 'detection-timer' }
  | { readonly type: 'stop' };

export type BFDAction =
  | { readonly type: 'send'; readonly packet: ControlPacket }
  /** (Re)start the transmit timer; the driver jitters the interval (`jittered`). */
  | { readonly type: 'schedule-transmit'; readonly intervalMs: number }
  /** (Re)start the detection timer to fire at `atMs`. */
  | { readonly type: 'arm-detection'; readonly atMs: number }
  | { readonly type: 'state-changed'; readonly from: BFDState; readonly to: BFDState; readonly diag: number }
  /** Stop both timers and close the sockets (after the last send). */
  | { readonly type: 'close' };

export interface BFDStep {
  readonly state: BFDMachineState;
  readonly actions: readonly BFDAction[];
}

export const INITIAL_BFD_STATE: BFDMachineState = { state: 'down', diag: DIAG.none, yourDiscriminator: 0, polling: false, stopped: false };

export function bfdStep(params: BFDMachineParams, s: BFDMachineState, event: BFDEvent, now: number): BFDStep {
  const out: BFDAction[] = [];
  if (s.stopped) return { state: s, actions: out };
  switch (event.type) {
    case 'start':
    case 'transmit-timer':
      return { state: s, actions: transmit(params, s, out) };
    case 'detection-timer': {
      if (s.detectAt === undefined) return { state: s, actions: out };
      // Before the deadline: a timer a later packet moved past now (stale), or one Node
      // fired a millisecond early. Nothing changes, but the deadline still holds: arm it
      // again for it, or a peer that falls silent now would never be declared down.
      if (now < s.detectAt) {
        out.push({ type: 'arm-detection', atMs: s.detectAt });
        return { state: s, actions: out };
      }
      let next: BFDMachineState = { ...s, detectAt: undefined };
      if (s.state === 'init' || s.state === 'up') next = change(params, next, 'down', DIAG.detectionTimeExpired, out);
      // 6.8.1: bfd.RemoteDiscr is reset when the session times out.
      const { remote: _, ...rest } = next;
      return { state: { ...rest, yourDiscriminator: 0 }, actions: out };
    }
    case 'stop': {
      // 6.8.16: AdminDown tells the peer not to treat this as a failure.
      const next: BFDMachineState = { ...s, state: 'adminDown', diag: DIAG.adminDown, stopped: true, detectAt: undefined };
      out.push({ type: 'send', packet: packetOf(params, next, false) }, { type: 'close' });
      return { state: next, actions: out };
    }
    case 'received':
      return receive(params, s, event.packet, now, out);
  }
}

function receive(params: BFDMachineParams, s: BFDMachineState, p: ControlPacket, now: number, out: BFDAction[]): BFDStep {
  // 6.8.6: a packet for another session (Your Discriminator not ours) is discarded.
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== params.myDiscriminator) return { state: s, actions: out };
  // 6.8.4: detection time = the peer's multiplier x the agreed interval (the larger of
  // our required RX and the peer's desired TX).
  const agreedMs = Math.max(params.profile.receiveInterval * 1000, p.desiredMinTxInterval) / 1000;
  const detectAt = now + p.detectMult * agreedMs;
  let next: BFDMachineState = { ...s, remote: p, yourDiscriminator: p.myDiscriminator, polling: p.final ? false : s.polling, detectAt };
  out.push({ type: 'arm-detection', atMs: detectAt });
  if (p.poll) out.push({ type: 'send', packet: packetOf(params, next, true) }); // 6.5: a Poll is answered with Final at once
  // 6.8.6's state table.
  if (p.state === 'adminDown') {
    if (next.state !== 'down') next = change(params, next, 'down', DIAG.neighborSignaledDown, out);
  } else if (next.state === 'down') {
    if (p.state === 'down') next = change(params, next, 'init', DIAG.none, out);
    else if (p.state === 'init') next = change(params, next, 'up', DIAG.none, out);
  } else if (next.state === 'init') {
    if (p.state === 'init' || p.state === 'up') next = change(params, next, 'up', DIAG.none, out);
  } else if (next.state === 'up' && p.state === 'down') {
    next = change(params, next, 'down', DIAG.neighborSignaledDown, out);
  }
  return { state: next, actions: out };
}

function change(params: BFDMachineParams, s: BFDMachineState, to: BFDState, diag: number, out: BFDAction[]): BFDMachineState {
  const from = s.state;
  let next: BFDMachineState = { ...s, state: to, diag };
  if (to === 'up' || from === 'up') {
    // 6.8.3: leaving or reaching Up changes our DesiredMinTxInterval (1 s while not Up),
    // which starts a Poll Sequence; the new rate applies from now, not from the next
    // tick of the old, slower timer.
    next = { ...next, polling: true };
    transmit(params, next, out);
  } else {
    out.push({ type: 'send', packet: packetOf(params, next, false) });
  }
  out.push({ type: 'state-changed', from, to, diag });
  return next;
}

function transmit(params: BFDMachineParams, s: BFDMachineState, out: BFDAction[]): BFDAction[] {
  // 6.8.2: passive mode sends nothing until the peer has been heard.
  if (!params.profile.passiveMode || s.remote) out.push({ type: 'send', packet: packetOf(params, s, false) });
  // 6.8.7: the interval is the larger of our desired TX and the peer's required RX.
  out.push({ type: 'schedule-transmit', intervalMs: Math.max(desiredMinTx(params, s), s.remote?.requiredMinRxInterval ?? 0) / 1000 });
  return out;
}

/** Microseconds: what we ask of the peer and offer. 6.8.3: at least 1 s until the session is Up. */
function desiredMinTx(params: BFDMachineParams, s: BFDMachineState): number {
  const configured = params.profile.transmitInterval * 1000;
  return s.state === 'up' ? configured : Math.max(1_000_000, configured);
}

function packetOf(params: BFDMachineParams, s: BFDMachineState, final: boolean): ControlPacket {
  return {
    diag: s.diag,
    state: s.state,
    poll: s.polling && !final,
    final,
    controlPlaneIndependent: false,
    demand: false,
    detectMult: params.profile.detectMultiplier,
    myDiscriminator: params.myDiscriminator,
    yourDiscriminator: s.yourDiscriminator,
    desiredMinTxInterval: desiredMinTx(params, s),
    requiredMinRxInterval: params.profile.receiveInterval * 1000,
    requiredMinEchoRxInterval: 0,
  };
}

/** 6.8.7: each interval is jittered to 75-100% of itself, so sessions do not synchronise. `random` in [0, 1). */
export function jittered(intervalMs: number, random: number): number {
  return intervalMs * (0.75 + random * 0.25);
}
