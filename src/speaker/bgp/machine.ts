// The BGP session state machine (RFC 4271 8), pure: (state, event, now) -> (state,
// actions). No socket, no timer, no process: the driver (session.ts) turns connections,
// decoded messages and timer expiries into events and carries out the actions, so every
// sequence of the RFC can be played here with chosen times.
//
// States are RFC 4271 8.2.2's but Active, which a speaker enters only while it waits for
// the peer to connect (PassiveTcpEstablishment or DelayOpen, 8.1.1): ferrolb connects
// and never listens, as MetalLB's speakers do (docs/COMPATIBILITY.md "Speaker, BGP
// mode"), so a failed connection goes to Idle (8.2.2 Connect, Event 18). Idle waits out
// the IdleHoldTimer (8.1.1 DampPeerOscillations) with the one backoff before it
// connects again. Timers are deadlines in the state; a timer event before its deadline
// is stale and changes nothing.
import type { BGPPeer } from '../../config/model.ts';
import type { BFDState } from '../bfd/packet.ts';
import { backoffDelay } from '../../time/backoff.ts';
import type { RuntimeError } from '../../observability/errors.ts';
import type { DecodeError } from './decode.ts';
import { endOfRIB } from './encode.ts';
import { BGP_VERSION, CEASE_SUBCODE, ERROR, FSM_SUBCODE, OPEN_SUBCODE, describeNotification, twoOctetAS, type BGPMessage, type OpenMessage } from './messages.ts';

export type SessionState = 'idle' | 'connect' | 'open-sent' | 'open-confirm' | 'established';

export interface BGPMachineParams {
  readonly peer: BGPPeer;
  /** This node's router ID when the peer sets none (MetalLB uses the node's IPv4). */
  readonly routerID: string;
  /** The IdleHoldTimer after the first failure, ms; doubled per further failure up to MAX_IDLE_HOLD_MS. */
  readonly idleHoldMs: number;
  /** The peer has a BFDProfile: a BFD session watches the path while Established. */
  readonly bfd: boolean;
}

export type BGPTimer = 'hold' | 'keepalive' | 'idle-hold';

export interface BGPMachineState {
  readonly state: SessionState;
  /** Failures since the session was last Established: the backoff's exponent. */
  readonly failures: number;
  /** The negotiated hold time, seconds (RFC 4271 4.2); 0 = no keepalives, no hold timer. */
  readonly holdTime: number;
  readonly peerAS: number;
  /** Both sides advertised Graceful Restart (RFC 4724 3). */
  readonly gracefulRestart: boolean;
  /** The HoldTimer's deadline (ms on the driver's clock) and the seconds it was set for. */
  readonly hold?: { readonly atMs: number; readonly seconds: number };
  readonly keepaliveAt?: number;
  readonly idleHoldAt?: number;
  /** The BFD session of this connection has been Up (RFC 5882 4.3: only then is Down a failure). */
  readonly bfdUp: boolean;
  readonly stopped: boolean;
}

export type BGPEvent =
  /** Event 1 ManualStart. */
  | { readonly type: 'start' }
  /** Event 2 ManualStop; `restarting`: the process goes away to come back (RFC 4724 4.2). */
  | { readonly type: 'stop'; readonly restarting: boolean }
  /** Event 16 Tcp_CR_Acked. `justStarted`: the process is young enough that this may be the restart the peer waits for (GR's R bit). */
  | { readonly type: 'tcp-connected'; readonly justStarted: boolean }
  /** Event 18 TcpConnectionFails: an error, a timeout, or the peer closing. */
  | { readonly type: 'tcp-failed'; readonly reason: string }
  /** Events 19 BGPOpen, 24/25 NotifMsg, 26 KeepAliveMsg, 27 UpdateMsg, and ROUTE-REFRESH (RFC 2918). */
  | { readonly type: 'message'; readonly message: BGPMessage }
  /** Events 21 BGPHeaderErr, 22 BGPOpenMsgErr, 28 UpdateMsgErr: what decode.ts refused, with the NOTIFICATION to answer. */
  | { readonly type: 'message-error'; readonly error: DecodeError }
  /** Events 10 HoldTimer_Expires, 11 KeepaliveTimer_Expires, 13 IdleHoldTimer_Expires. */
  | { readonly type: 'timer'; readonly timer: BGPTimer }
  /** The BFD session watching this connection's path changed state. */
  | { readonly type: 'bfd'; readonly state: BFDState }
  /** The routes this node should announce to the peer changed. */
  | { readonly type: 'routes-changed' }
  /** The driver could not encode a message it was told to send (a value the wire cannot carry). */
  | { readonly type: 'send-failed'; readonly reason: string };

export type BGPAction =
  /** Open a TCP connection to the peer; its outcome comes back as tcp-connected or tcp-failed. */
  | { readonly type: 'connect' }
  | { readonly type: 'send'; readonly message: BGPMessage }
  /**
   * Bring the peer's Adj-RIB-Out in line with the routes wanted (RFC 4271 9.2): announce
   * what is new or changed, withdraw what is gone. `full`: the peer has nothing from us
   * yet (a new session, a ROUTE-REFRESH), so everything goes out.
   */
  | { readonly type: 'send-routes'; readonly full: boolean }
  /** Close the connection (after the sends before it) and forget any connect in flight and what the peer had from us. */
  | { readonly type: 'drop-connection' }
  | { readonly type: 'arm'; readonly timer: BGPTimer; readonly atMs: number }
  | { readonly type: 'disarm'; readonly timer: BGPTimer }
  /** Start a BFD session on this connection's addresses; its state comes back as bfd events. */
  | { readonly type: 'start-bfd' }
  | { readonly type: 'stop-bfd' }
  | { readonly type: 'state-changed'; readonly from: SessionState; readonly to: SessionState }
  /**
   * The session went down: whether it had been Established, the failure (absent when it
   * was stopped), and when it is tried again (absent once stopped). `graceful`: closed
   * without a NOTIFICATION so the peer keeps our routes while we restart (RFC 4724 4.2).
   */
  | { readonly type: 'session-down'; readonly wasEstablished: boolean; readonly error?: RuntimeError; readonly retryInMs?: number; readonly graceful?: boolean }
  /** A malformed UPDATE that RFC 7606 handles without a reset (treat-as-withdraw, attribute discard): the session stays; for logs and counters. */
  | { readonly type: 'malformed-update'; readonly error: DecodeError };

export interface BGPStep {
  readonly state: BGPMachineState;
  readonly actions: readonly BGPAction[];
}

export const INITIAL_BGP_STATE: BGPMachineState = { state: 'idle', failures: 0, holdTime: 0, peerAS: 0, gracefulRestart: false, bfdUp: false, stopped: false };

/** RFC 4724 Restart Time we announce, seconds (FRR's default, as MetalLB's FRR mode). */
export const GR_RESTART_TIME_S = 120;
/** RFC 4271 8.2.2: the HoldTimer in OpenSent is "a large value", suggested 4 minutes. */
export const OPEN_SENT_HOLD_S = 240;
export const MAX_IDLE_HOLD_MS = 60_000;

export function bgpStep(params: BGPMachineParams, s: BGPMachineState, event: BGPEvent, now: number): BGPStep {
  const out: BGPAction[] = [];
  if (s.stopped) return { state: s, actions: out };
  switch (event.type) {
    case 'start':
      return { state: s.state === 'idle' ? connect(params, s, out) : s, actions: out };
    case 'stop':
      return { state: stop(s, event.restarting, out), actions: out };
    case 'tcp-connected': {
      if (s.state !== 'connect') return { state: s, actions: out };
      out.push({ type: 'send', message: openMessage(params, event.justStarted) });
      const next = armHold(change({ ...s }, 'open-sent', out), OPEN_SENT_HOLD_S, now, out);
      return { state: next, actions: out };
    }
    case 'tcp-failed':
      return { state: fail(params, s, { code: 'EBGPCONNECTION', message: `connection: ${event.reason}` }, now, out), actions: out };
    case 'message-error': {
      if (!connected(s)) return { state: s, actions: out };
      const e = event.error;
      // RFC 7606 §2: treat-as-withdraw and attribute discard keep the session. Received
      // routes are not used (docs/COMPATIBILITY.md "Speaker, BGP mode"), so there is
      // nothing to withdraw or drop; the UPDATE still counts as heard for the hold timer.
      // Only in Established: an UPDATE before it is an FSM error whatever its contents.
      // AFI/SAFI disable becomes the reset RFC 7606 §5.3 also allows (one family of a
      // session is never disabled alone here).
      if (s.state === 'established' && (e.action === 'treat-as-withdraw' || e.action === 'attribute-discard')) {
        const next = s.holdTime > 0 ? armHold(s, s.holdTime, now, out) : s;
        out.push({ type: 'malformed-update', error: e });
        return { state: next, actions: out };
      }
      out.push({ type: 'send', message: { type: 'notification', code: e.code, subcode: e.subcode, data: e.data } });
      return { state: fail(params, s, { code: 'EBGPSENT', message: `we sent NOTIFICATION ${describeNotification(e.code, e.subcode)}: malformed message from the peer: ${e.reason}` }, now, out), actions: out };
    }
    case 'message':
      if (!connected(s)) return { state: s, actions: out };
      return { state: receive(params, s, event.message, now, out), actions: out };
    case 'timer':
      return { state: timer(params, s, event.timer, now, out), actions: out };
    case 'bfd': {
      if (s.state !== 'established') return { state: s, actions: out };
      if (event.state === 'up') return { state: { ...s, bfdUp: true }, actions: out };
      // RFC 5882 4.3: BGP drops the session at once rather than waiting out its hold
      // time; RFC 9384 3 names the reason Cease / BFD Down. Down before Up is BFD still
      // coming up, not a failure.
      if (event.state === 'down' && s.bfdUp) return { state: notify(params, s, ERROR.cease, CEASE_SUBCODE.bfdDown, 'BFD reports the path to the peer down', now, out), actions: out };
      return { state: s, actions: out };
    }
    case 'routes-changed':
      if (s.state === 'established') out.push({ type: 'send-routes', full: false });
      return { state: s, actions: out };
    case 'send-failed':
      // A message we cannot encode is a configuration problem (a bad router ID, say):
      // this connection cannot go on, the process does.
      return { state: fail(params, s, { code: 'EBGPENCODE', message: `cannot encode a message: ${event.reason}` }, now, out), actions: out };
  }
}

/** A TCP connection is up and carries BGP (OpenSent onwards). */
function connected(s: BGPMachineState): boolean {
  return s.state === 'open-sent' || s.state === 'open-confirm' || s.state === 'established';
}

function connect(params: BGPMachineParams, s: BGPMachineState, out: BGPAction[]): BGPMachineState {
  // A peer reached by interface (unnumbered BGP) has no address to connect to.
  if (!params.peer.peerAddress) return s;
  out.push({ type: 'connect' });
  const { idleHoldAt: _, ...rest } = s;
  return change({ ...rest, bfdUp: false }, 'connect', out);
}

function receive(params: BGPMachineParams, s: BGPMachineState, msg: BGPMessage, now: number, out: BGPAction[]): BGPMachineState {
  // 8.2.2 Established: every KEEPALIVE or UPDATE restarts the HoldTimer; ferrolb
  // restarts it for every message, which a peer can only lengthen by talking.
  if (s.state === 'established' && s.holdTime > 0) s = armHold(s, s.holdTime, now, out);
  switch (msg.type) {
    case 'open':
      return open(params, s, msg, now, out);
    case 'keepalive':
      return s.state === 'open-confirm' ? established(params, s, now, out) : s;
    case 'update':
      // Received routes are not used (docs/COMPATIBILITY.md "Speaker, BGP mode"); the driver counts them.
      return s;
    case 'notification':
      return fail(params, s, { code: 'EBGPRECEIVED', message: `the peer sent NOTIFICATION ${describeNotification(msg.code, msg.subcode)}${msg.data.length ? ` (data ${msg.data.toString('hex')})` : ''}` }, now, out);
    case 'route-refresh':
      // RFC 2918 3: the peer asks for everything again.
      if (s.state === 'established') out.push({ type: 'send-routes', full: true });
      return s;
  }
}

function open(params: BGPMachineParams, s: BGPMachineState, msg: OpenMessage, now: number, out: BGPAction[]): BGPMachineState {
  if (s.state !== 'open-sent') {
    // RFC 4271 6.6 FSM error; RFC 6608 3 names the state it came in.
    const subcode = s.state === 'open-confirm' ? FSM_SUBCODE.unexpectedMessageInOpenConfirm : FSM_SUBCODE.unexpectedMessageInEstablished;
    return notify(params, s, ERROR.fsm, subcode, `OPEN received in state ${s.state}`, now, out);
  }
  const peer = params.peer;
  const peerAS = msg.capabilities.fourOctetAS ?? msg.myAS;
  const myAS = peer.localASN ?? peer.myASN;
  const expected = peer.peerASN;
  const ok = expected !== undefined ? peerAS === expected : peer.dynamicASN === 'internal' ? peerAS === myAS : peerAS !== myAS;
  if (!ok) {
    // RFC 4271 6.2: Bad Peer AS, with the 2-byte My Autonomous System as received.
    const data = Buffer.alloc(2);
    data.writeUInt16BE(msg.myAS);
    return notify(params, s, ERROR.open, OPEN_SUBCODE.badPeerAS, `peer AS ${peerAS}, expected ${expected ?? peer.dynamicASN}`, now, out, data);
  }
  // RFC 4271 4.2: the smaller hold time; 0 means no keepalives and no hold timer.
  const holdTime = Math.min(msg.holdTime, peer.holdTime);
  out.push({ type: 'send', message: { type: 'keepalive' } });
  // RFC 4724 3: graceful restart holds when both sides advertised it.
  const next = change({ ...s, peerAS, holdTime, gracefulRestart: peer.enableGracefulRestart && msg.capabilities.gracefulRestart !== undefined }, 'open-confirm', out);
  return armHold(next, holdTime > 0 ? holdTime : OPEN_SENT_HOLD_S, now, out);
}

function established(params: BGPMachineParams, s: BGPMachineState, now: number, out: BGPAction[]): BGPMachineState {
  let next = change({ ...s, failures: 0 }, 'established', out);
  if (next.holdTime > 0) next = armHold(next, next.holdTime, now, out);
  else next = disarmHold(next, out);
  next = scheduleKeepalive(params, next, now, out);
  if (params.bfd) out.push({ type: 'start-bfd' });
  out.push({ type: 'send-routes', full: true });
  // RFC 4724 2: End-of-RIB (an empty UPDATE; MP_UNREACH with no prefixes for IPv6)
  // tells the peer our initial routes are complete.
  out.push({ type: 'send', message: endOfRIB('ipv4-unicast') }, { type: 'send', message: endOfRIB('ipv6-unicast') });
  return next;
}

function timer(params: BGPMachineParams, s: BGPMachineState, which: BGPTimer, now: number, out: BGPAction[]): BGPMachineState {
  // A timer that fires before its deadline (Node's timers may fire a millisecond early
  // against Date.now(); or a stale one) changes nothing, but the deadline still holds:
  // arm it again for that deadline, or that session would never send another KEEPALIVE
  // (and a dead peer never be noticed, an idle session never reconnect).
  const early = (atMs: number) => {
    out.push({ type: 'arm', timer: which, atMs });
    return s;
  };
  switch (which) {
    case 'hold':
      if (s.hold === undefined || !connected(s)) return s;
      if (now < s.hold.atMs) return early(s.hold.atMs);
      return notify(params, s, ERROR.holdTimerExpired, 0, `nothing heard from the peer for ${s.hold.seconds} s`, now, out);
    case 'keepalive':
      if (s.keepaliveAt === undefined || s.state !== 'established') return s;
      if (now < s.keepaliveAt) return early(s.keepaliveAt);
      out.push({ type: 'send', message: { type: 'keepalive' } });
      return scheduleKeepalive(params, s, now, out);
    case 'idle-hold':
      if (s.idleHoldAt === undefined || s.state !== 'idle') return s;
      if (now < s.idleHoldAt) return early(s.idleHoldAt);
      return connect(params, s, out);
  }
}

/** RFC 4271 10: a KEEPALIVE every third of the hold time, or more often when configured so. */
function scheduleKeepalive(params: BGPMachineParams, s: BGPMachineState, now: number, out: BGPAction[]): BGPMachineState {
  if (s.holdTime === 0) return s;
  const everyS = Math.max(1, Math.min(params.peer.keepaliveTime || s.holdTime / 3, s.holdTime / 3));
  const atMs = now + everyS * 1000;
  out.push({ type: 'arm', timer: 'keepalive', atMs });
  return { ...s, keepaliveAt: atMs };
}

function armHold(s: BGPMachineState, seconds: number, now: number, out: BGPAction[]): BGPMachineState {
  const atMs = now + seconds * 1000;
  out.push({ type: 'arm', timer: 'hold', atMs });
  return { ...s, hold: { atMs, seconds } };
}

function disarmHold(s: BGPMachineState, out: BGPAction[]): BGPMachineState {
  out.push({ type: 'disarm', timer: 'hold' });
  const { hold: _, ...rest } = s;
  return rest;
}

function change(s: BGPMachineState, to: SessionState, out: BGPAction[]): BGPMachineState {
  if (s.state !== to) out.push({ type: 'state-changed', from: s.state, to });
  return { ...s, state: to };
}

/**
 * RFC 4486: Cease / Administrative Shutdown, so the peer withdraws our routes at once;
 * when restarting with graceful restart negotiated, no NOTIFICATION, so the peer keeps
 * them, marked stale, for the restart time (RFC 4724 4.2).
 */
function stop(s: BGPMachineState, restarting: boolean, out: BGPAction[]): BGPMachineState {
  const graceful = restarting && s.gracefulRestart && connected(s);
  if (!graceful && connected(s)) out.push({ type: 'send', message: { type: 'notification', code: ERROR.cease, subcode: CEASE_SUBCODE.administrativeShutdown, data: Buffer.alloc(0) } });
  out.push({ type: 'disarm', timer: 'idle-hold' });
  const { idleHoldAt: _, ...rest } = s;
  const wasUp = s.state !== 'idle';
  const wasEstablished = s.state === 'established';
  const next = close({ ...rest, stopped: true }, out);
  if (wasUp) out.push({ type: 'session-down', wasEstablished, ...(graceful ? { graceful: true } : {}) });
  return next;
}

/** Sends a NOTIFICATION and closes (RFC 4271 6: an error is reported, then the connection is closed). */
function notify(params: BGPMachineParams, s: BGPMachineState, code: number, subcode: number, reason: string, now: number, out: BGPAction[], data = Buffer.alloc(0)): BGPMachineState {
  out.push({ type: 'send', message: { type: 'notification', code, subcode, data } });
  return fail(params, s, { code: 'EBGPSENT', message: `we sent NOTIFICATION ${describeNotification(code, subcode)}: ${reason}` }, now, out);
}

/** Closes, then waits out the IdleHoldTimer before connecting again. */
function fail(params: BGPMachineParams, s: BGPMachineState, error: RuntimeError, now: number, out: BGPAction[]): BGPMachineState {
  if (s.state === 'idle') return s;
  const wasEstablished = s.state === 'established';
  const closed = close(s, out);
  const retryInMs = backoffDelay(s.failures, params.idleHoldMs, MAX_IDLE_HOLD_MS);
  out.push({ type: 'arm', timer: 'idle-hold', atMs: now + retryInMs }, { type: 'session-down', wasEstablished, error, retryInMs });
  return { ...closed, failures: s.failures + 1, idleHoldAt: now + retryInMs };
}

function close(s: BGPMachineState, out: BGPAction[]): BGPMachineState {
  if (s.state === 'idle') return s;
  out.push({ type: 'stop-bfd' }, { type: 'disarm', timer: 'hold' }, { type: 'disarm', timer: 'keepalive' }, { type: 'drop-connection' });
  const { hold: _h, keepaliveAt: _k, ...rest } = s;
  return change({ ...rest, bfdUp: false, gracefulRestart: false }, 'idle', out);
}

/** Our OPEN (RFC 4271 4.2) with the capabilities we negotiate. */
function openMessage(params: BGPMachineParams, justStarted: boolean): OpenMessage {
  const peer = params.peer;
  const asn = peer.localASN ?? peer.myASN;
  return {
    type: 'open',
    version: BGP_VERSION,
    myAS: twoOctetAS(asn),
    holdTime: peer.holdTime,
    routerID: peer.routerID ?? params.routerID,
    capabilities: {
      multiprotocol: ['ipv4-unicast', 'ipv6-unicast'],
      fourOctetAS: asn,
      routeRefresh: true,
      // RFC 4724: we announce only; the node's data plane (kube-proxy) forwards on while
      // the speaker restarts, so forwarding state is preserved (F) for both families.
      // R: this process has just started, so this may be the restart the peer waits for.
      ...(peer.enableGracefulRestart
        ? { gracefulRestart: { restartTime: GR_RESTART_TIME_S, restarting: justStarted, families: ['ipv4-unicast', 'ipv6-unicast'] as const, forwardingPreserved: true } }
        : {}),
      unknown: [],
    },
  };
}
