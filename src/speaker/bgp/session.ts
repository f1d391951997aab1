// One BGP session from this node to one peer (RFC 4271): connect, OPEN, keepalives,
// then the node's routes for that peer as UPDATEs, kept in step with what the plan says
// (announce what is new or changed, withdraw what is gone). Routes received are
// ignored: the speaker only announces (docs/COMPATIBILITY.md "Speaker, BGP mode").
//
// The session is active only (the node connects; MetalLB's speakers do the same), and
// retries with backoff after any failure. Every failure is logged with the peer's
// words when it sent a NOTIFICATION, or with ours when we sent one.
//
// This file is the driver: the TCP connection, the timers, the BFD session and the
// Adj-RIB-Out. Every decision is the pure machine's (machine.ts), which it feeds with
// events and whose actions it carries out.
import type { Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Clock, Timer } from '../../time/clock.ts';
import type { Logger } from '../../observability/logging.ts';
import { logFields, type RuntimeError } from '../../observability/errors.ts';
import type { BFDProfile, BGPPeer } from '../../config/model.ts';
import type { RouteAttributes } from '../../planning/bgp-plan.ts';
import { encode } from './encode.ts';
import { connectBGP, sessionTTL, singleHopProblem } from './tcp-connect.ts';
import { BFDSession } from '../bfd/session.ts';
import { MessageReader } from './decode.ts';
import type { AFI_SAFI, BGPMessage } from './messages.ts';
import { ribOutChange, type AdjRIBOut } from './adj-rib-out.ts';
import { bgpStep, GR_RESTART_TIME_S, INITIAL_BGP_STATE, type BGPAction, type BGPEvent, type BGPMachineParams, type BGPMachineState, type BGPTimer, type SessionState } from './machine.ts';

export type { SessionState } from './machine.ts';

export interface SessionOptions {
  readonly peer: BGPPeer;
  /** This node's router ID when the peer sets none (MetalLB uses the node's IPv4). */
  readonly routerID: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onStateChange?: (state: SessionState, peer: string) => void;
  /** The session failed (it is tried again); `error.code` says how (src/observability/errors.ts). */
  readonly onFailure?: (error: RuntimeError, peer: string) => void;
  /** Seconds before the first reconnect; doubles on each failure up to 60 s. */
  readonly minRetry?: number;
  /** The TCP MD5 password (RFC 2385), from `password` or the `passwordSecret`. */
  readonly password?: string;
  /** True while the process is young enough that a session is a restart (GR's R bit). */
  readonly justStarted?: () => boolean;
  /** The peer's BFDProfile: a BFD session watches the path while BGP is up. */
  readonly bfd?: BFDProfile;
}

export class BGPSession {
  readonly #opts: SessionOptions;
  readonly #peer: BGPPeer;
  readonly #log: Logger;
  readonly #params: BGPMachineParams;
  #machine: BGPMachineState = INITIAL_BGP_STATE;
  /** Events that arrive while the actions of another are carried out wait their turn (run to completion). */
  readonly #queue: BGPEvent[] = [];
  #stepping = false;
  #socket: Socket | undefined;
  /** The connect in flight, if any: a connection that settles after it was dropped is discarded. */
  #connecting: object | undefined;
  #reader = new MessageReader();
  #desired = new Map<string, RouteAttributes>();
  #ribOut: AdjRIBOut = new Map();
  readonly #timers = new Map<BGPTimer, Timer>();
  #bfd: BFDSession | undefined;
  readonly counters = { updatesSent: 0, updatesReceived: 0, prefixesAnnounced: 0, malformedUpdatesReceived: 0 };

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.#peer = opts.peer;
    this.#log = opts.log.child({ peer: opts.peer.name, address: opts.peer.peerAddress });
    this.#params = { peer: opts.peer, routerID: opts.routerID, idleHoldMs: (opts.minRetry ?? opts.peer.connectTime ?? 2) * 1000, bfd: opts.bfd !== undefined };
  }

  get state(): SessionState {
    return this.#machine.state;
  }

  get peerName(): string {
    return this.#peer.name;
  }

  /** Graceful restart was negotiated on the current connection (RFC 4724 3). */
  get gracefulRestart(): boolean {
    return this.#machine.gracefulRestart;
  }

  /** The routes this node wants announced to the peer (setRoutes). */
  get routes(): ReadonlyMap<string, RouteAttributes> {
    return this.#desired;
  }

  /** Prefixes the peer has from us now (the Adj-RIB-Out). */
  get announced(): number {
    return this.#ribOut.size;
  }

  start(): void {
    this.#step({ type: 'start' });
  }

  /** The routes this node should have announced to the peer now. */
  setRoutes(routes: ReadonlyMap<string, RouteAttributes>): void {
    this.#desired = new Map(routes);
    this.#step({ type: 'routes-changed' });
  }

  /**
   * Closes with a Cease / Administrative Shutdown (RFC 4486): the peer withdraws our
   * routes at once. `restarting`: the process is going away to come back (SIGTERM of a
   * speaker being upgraded); when graceful restart was negotiated, the connection is
   * closed without a NOTIFICATION instead, so the peer keeps our routes, marked stale,
   * for the restart time and traffic keeps flowing (RFC 4724 4.2).
   */
  stop(opts: { restarting?: boolean } = {}): void {
    this.#step({ type: 'stop', restarting: opts.restarting === true });
  }

  #step(event: BGPEvent): void {
    this.#queue.push(event);
    if (this.#stepping) return;
    this.#stepping = true;
    try {
      for (let e = this.#queue.shift(); e !== undefined; e = this.#queue.shift()) {
        const { state, actions } = bgpStep(this.#params, this.#machine, e, this.#opts.clock.now());
        this.#machine = state;
        for (const a of actions) this.#act(a);
      }
    } finally {
      this.#stepping = false;
      this.#queue.length = 0;
    }
  }

  #act(a: BGPAction): void {
    switch (a.type) {
      case 'connect':
        return this.#connect();
      case 'send':
        return this.#send(a.message);
      case 'send-routes':
        return this.#sendRoutes(a.full);
      case 'drop-connection':
        return this.#dropConnection();
      case 'arm': {
        this.#timers.get(a.timer)?.cancel();
        const timer = a.timer;
        this.#timers.set(timer, this.#opts.clock.setTimeout(() => this.#step({ type: 'timer', timer }), a.atMs - this.#opts.clock.now()));
        return;
      }
      case 'disarm':
        this.#timers.get(a.timer)?.cancel();
        this.#timers.delete(a.timer);
        return;
      case 'start-bfd':
        return this.#startBFD();
      case 'stop-bfd':
        this.#bfd?.stop();
        this.#bfd = undefined;
        return;
      case 'state-changed':
        if (a.to === 'open-sent') this.#log.debug('connected; sent OPEN');
        if (a.to === 'established') this.#log.info({ holdTime: this.#machine.holdTime, peerAS: this.#machine.peerAS }, 'BGP session established');
        this.#opts.onStateChange?.(a.to, this.#peer.name);
        return;
      case 'session-down':
        if (a.graceful) this.#log.info({ restartTime: GR_RESTART_TIME_S }, 'closed without NOTIFICATION: the peer keeps our routes while we restart (graceful restart)');
        if (a.error === undefined) {
          this.#log.debug('session stopped');
          return;
        }
        this.#log[a.wasEstablished ? 'warn' : 'info']({ ...logFields(a.error), retryInS: (a.retryInMs ?? 0) / 1000 }, a.wasEstablished ? 'BGP session lost' : 'BGP session not established');
        this.#opts.onFailure?.(a.error, this.#peer.name);
        return;
      case 'malformed-update': {
        // RFC 7606: kept up; the peer is sending something wrong, worth a warning, but a
        // peer sending thousands must not flood the log: the 1st, 2nd, 4th, 8th, ...
        const n = ++this.counters.malformedUpdatesReceived;
        if ((n & (n - 1)) === 0) this.#log.warn({ action: a.error.action, rule: a.error.rule, reason: a.error.reason, malformedSoFar: n }, 'malformed UPDATE from the peer; session kept (RFC 7606)');
        return;
      }
    }
  }

  #connect(): void {
    this.#reader = new MessageReader();
    const ttl = sessionTTL(this.#peer);
    const host = this.#peer.peerAddress!;
    const problem = ttl === 1 ? singleHopProblem(host, Object.values(networkInterfaces()).flatMap((a) => a ?? [])) : undefined;
    // Queued behind the step that asked for the connection (#step runs to completion).
    if (problem !== undefined) return void this.#step({ type: 'tcp-failed', reason: problem });
    const token = {};
    this.#connecting = token;
    const password = this.#opts.password;
    connectBGP({
      host,
      port: this.#peer.peerPort,
      ...(this.#peer.sourceAddress ? { localAddress: this.#peer.sourceAddress } : {}),
      ...(password !== undefined ? { password } : {}),
      ttl,
      timeoutMs: 5000,
    }).then(
      (socket) => {
        if (this.#connecting !== token) return void socket.destroy();
        this.#attach(socket);
        this.#connected();
      },
      (err: Error) => {
        if (this.#connecting === token) this.#step({ type: 'tcp-failed', reason: err.message });
      },
    );
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(socket, chunk));
    socket.on('error', (err) => this.#step({ type: 'tcp-failed', reason: err.message }));
    socket.on('close', () => this.#step({ type: 'tcp-failed', reason: 'closed by the peer' }));
  }

  #connected(): void {
    this.#connecting = undefined;
    this.#step({ type: 'tcp-connected', justStarted: this.#opts.justStarted?.() ?? false });
  }

  #receive(socket: Socket, chunk: Buffer): void {
    this.#reader.push(chunk);
    // Until the machine drops this connection: then the rest of its bytes are not read.
    while (this.#socket === socket) {
      const msg = this.#reader.next();
      if (msg === undefined) return;
      if (msg.type === 'error') {
        // A reset drops the connection and ends the loop; an RFC 7606 treat-as-withdraw
        // or attribute discard keeps it, and the messages behind it are read on.
        this.#step({ type: 'message-error', error: msg });
        if (msg.action !== 'treat-as-withdraw' && msg.action !== 'attribute-discard') return; // a framing error repeats forever
        continue;
      }
      // Received routes are not used; counting them shows a misconfigured peer.
      if (msg.type === 'update') this.counters.updatesReceived++;
      this.#step({ type: 'message', message: msg });
    }
  }

  /**
   * RFC 5882 4.3: when BFD says the path is down, BGP drops the session at once rather
   * than waiting out its hold time. BFD starts with the session (it needs the local
   * address) and stops with it.
   */
  #startBFD(): void {
    const profile = this.#opts.bfd;
    const local = this.#socket?.localAddress?.replace(/^::ffff:/, '');
    if (!profile || !local || !this.#peer.peerAddress) return;
    const bfd = new BFDSession({
      peerAddress: this.#peer.peerAddress,
      localAddress: local,
      profile,
      clock: this.#opts.clock,
      log: this.#log,
      // Only the BFD session of this connection speaks for it.
      onStateChange: (state) => {
        if (bfd === this.#bfd) this.#step({ type: 'bfd', state });
      },
    });
    this.#bfd = bfd;
    bfd.start().catch((err: unknown) => this.#log.error({ err: String(err) }, 'cannot start BFD; the session runs without it'));
  }

  #sendRoutes(full: boolean): void {
    const change = ribOutChange(full ? new Map() : this.#ribOut, this.#desired, {
      myAS: this.#peer.localASN ?? this.#peer.myASN,
      peerAS: this.#machine.peerAS,
      nextHop: (family) => this.#nextHop(family),
    });
    for (const { family, prefixes } of change.noNextHop) this.#log.warn({ family, prefixes }, `no ${family === 'ipv6-unicast' ? 'IPv6' : 'IPv4'} next hop on this session's interface; not announced`);
    this.#ribOut = change.ribOut;
    for (const update of change.updates) {
      this.counters.updatesSent++;
      this.#send(update);
    }
    this.counters.prefixesAnnounced = this.#ribOut.size;
  }

  /**
   * NEXT_HOP is this end of the session (docs/COMPATIBILITY.md "Speaker, BGP mode"). For the other family over the
   * same session (IPv6 prefixes on an IPv4 session), a global address of that family on
   * the interface that carries the session.
   */
  #nextHop(family: AFI_SAFI): string | undefined {
    const local = this.#socket?.localAddress?.replace(/^::ffff:/, '');
    if (!local) return undefined;
    const wantV6 = family === 'ipv6-unicast';
    if (local.includes(':') === wantV6) return local;
    for (const addresses of Object.values(networkInterfaces())) {
      if (!addresses?.some((a) => a.address === local)) continue;
      const other = addresses.find((a) => (a.family === 'IPv6') === wantV6 && !a.internal && !(wantV6 && a.address.startsWith('fe80')));
      return other?.address;
    }
    return undefined;
  }

  #send(msg: BGPMessage): void {
    if (!this.#socket || this.#socket.destroyed) return;
    let bytes: Buffer;
    try {
      bytes = encode(msg);
    } catch (err) {
      // A value the wire cannot carry (a bad router ID, say): a configuration problem,
      // reported; the process goes on.
      this.#log.error({ err: (err as Error).message, message: msg.type }, 'cannot encode a BGP message');
      if (msg.type !== 'notification') this.#step({ type: 'send-failed', reason: `${msg.type}: ${(err as Error).message}` });
      return;
    }
    this.#socket.write(bytes);
  }

  #dropConnection(): void {
    this.#connecting = undefined;
    this.#ribOut = new Map();
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    socket.removeAllListeners('close');
    socket.removeAllListeners('data');
    socket.on('error', () => {});
    socket.end();
    setTimeout(() => socket.destroy(), 100).unref();
  }
}
