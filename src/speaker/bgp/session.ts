// One BGP session from this node to one peer (RFC 4271): connect, OPEN, keepalives,
// then the node's routes for that peer as UPDATEs, kept in step with what the plan says
// (announce what is new or changed, withdraw what is gone). Routes received are
// ignored: the speaker only announces (docs/COMPATIBILITY.md "Speaker, BGP mode").
//
// The session is active only (the node connects; MetalLB's speakers do the same), and
// retries with backoff after any failure. Every failure is logged with the peer's
// words when it sent a NOTIFICATION, or with ours when we sent one.
import { connect as tcpConnect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Clock, Timer } from '../../time/clock.ts';
import { backoffDelay } from '../../time/backoff.ts';
import type { Logger } from '../../observability/logging.ts';
import type { BGPPeer } from '../../config/model.ts';
import type { RouteAttributes } from './routes.ts';
import { encode, endOfRIB, updatesFor } from './encode.ts';
import { connectWithMD5 } from './tcp-md5.ts';
import { BFDSession } from '../bfd/session.ts';
import type { BFDProfile } from '../../config/model.ts';
import { MessageReader } from './decode.ts';
import { BGP_VERSION, CEASE_SUBCODE, ERROR, OPEN_SUBCODE, describeNotification, twoOctetAS, type AFI_SAFI, type BGPMessage, type OpenMessage, type PathAttributes, type UpdateMessage } from './messages.ts';

export type SessionState = 'idle' | 'connect' | 'open-sent' | 'open-confirm' | 'established';

export interface SessionOptions {
  readonly peer: BGPPeer;
  /** This node's router ID when the peer sets none (MetalLB uses the node's IPv4). */
  readonly routerID: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onStateChange?: (state: SessionState, peer: string) => void;
  /** Seconds before the first reconnect; doubles on each failure up to 60 s. */
  readonly minRetry?: number;
  /** The TCP MD5 password (RFC 2385), from `password` or the `passwordSecret`. */
  readonly password?: string;
  /** True while the process is young enough that a session is a restart (GR's R bit). */
  readonly justStarted?: () => boolean;
  /** The peer's BFDProfile: a BFD session watches the path while BGP is up. */
  readonly bfd?: BFDProfile;
}

/** RFC 4724 Restart Time we announce, seconds (FRR's default, as MetalLB's FRR mode). */
export const GR_RESTART_TIME_S = 120;
const OPEN_SENT_HOLD_S = 240; // RFC 4271 8.2.2: "a large value", suggested 4 minutes
const MAX_RETRY_S = 60;
/** RFC 4271 4.5: subcode 0 where no specific one is defined or chosen. */
const UNSPECIFIC = 0;

export class BGPSession {
  readonly #opts: SessionOptions;
  readonly #peer: BGPPeer;
  readonly #log: Logger;
  #state: SessionState = 'idle';
  #socket: Socket | undefined;
  #reader = new MessageReader();
  #desired = new Map<string, RouteAttributes>();
  /** What the peer has from us: prefix -> attribute key. */
  #sent = new Map<string, string>();
  #holdTime = 0;
  #holdTimer: Timer | undefined;
  #keepaliveTimer: Timer | undefined;
  #retryTimer: Timer | undefined;
  #failures = 0;
  #stopped = false;
  #attempt = 0;
  #bfd: BFDSession | undefined;
  #bfdWasUp = false;
  #gracefulRestartNegotiated = false;
  #peerAS = 0;
  readonly counters = { updatesSent: 0, updatesReceived: 0, prefixesAnnounced: 0 };

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.#peer = opts.peer;
    this.#log = opts.log.child({ peer: opts.peer.name, address: opts.peer.peerAddress });
  }

  get state(): SessionState {
    return this.#state;
  }

  get peerName(): string {
    return this.#peer.name;
  }

  start(): void {
    this.#connect();
  }

  /** The routes this node should have announced to the peer now. */
  setRoutes(routes: ReadonlyMap<string, RouteAttributes>): void {
    this.#desired = new Map(routes);
    if (this.#state === 'established') this.#sync();
  }

  /**
   * Closes with a Cease / Administrative Shutdown (RFC 4486): the peer withdraws our
   * routes at once. `restarting`: the process is going away to come back (SIGTERM of a
   * speaker being upgraded); when graceful restart was negotiated, the connection is
   * closed without a NOTIFICATION instead, so the peer keeps our routes, marked stale,
   * for the restart time and traffic keeps flowing (RFC 4724 4.2).
   */
  stop(opts: { restarting?: boolean } = {}): void {
    this.#stopped = true;
    this.#retryTimer?.cancel();
    const graceful = opts.restarting === true && this.#gracefulRestartNegotiated;
    if (!graceful && this.#socket && (this.#state === 'established' || this.#state === 'open-confirm' || this.#state === 'open-sent')) {
      this.#write({ type: 'notification', code: ERROR.cease, subcode: CEASE_SUBCODE.administrativeShutdown, data: Buffer.alloc(0) });
    }
    if (graceful) this.#log.info({ restartTime: GR_RESTART_TIME_S }, 'closing without NOTIFICATION: the peer keeps our routes while we restart (graceful restart)');
    this.#close('stopped');
  }

  #setState(state: SessionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#opts.onStateChange?.(state, this.#peer.name);
  }

  #connect(): void {
    if (this.#stopped || !this.#peer.peerAddress) return;
    this.#setState('connect');
    this.#reader = new MessageReader();
    const attempt = ++this.#attempt;
    const target = { host: this.#peer.peerAddress, port: this.#peer.peerPort, ...(this.#peer.sourceAddress ? { localAddress: this.#peer.sourceAddress } : {}) };
    if (this.#opts.password !== undefined) {
      connectWithMD5({ ...target, password: this.#opts.password, timeoutMs: 5000 }).then(
        (socket) => {
          if (this.#stopped || attempt !== this.#attempt) return void socket.destroy();
          this.#attach(socket);
          this.#connected();
        },
        (err: Error) => {
          if (attempt === this.#attempt) this.#fail(`connection: ${err.message}`);
        },
      );
      return;
    }
    const socket = tcpConnect(target);
    this.#attach(socket);
    socket.on('connect', () => this.#connected());
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (err) => this.#fail(`connection: ${err.message}`));
    socket.on('close', () => this.#fail('connection closed by the peer'));
  }

  #connected(): void {
    this.#log.debug('connected; sending OPEN');
    this.#write(this.#open());
    this.#setState('open-sent');
    this.#armHold(OPEN_SENT_HOLD_S);
  }

  #open(): OpenMessage {
    const asn = this.#peer.localASN ?? this.#peer.myASN;
    return {
      type: 'open',
      version: BGP_VERSION,
      myAS: twoOctetAS(asn),
      holdTime: this.#peer.holdTime,
      routerID: this.#peer.routerID ?? this.#opts.routerID,
      capabilities: {
        multiprotocol: ['ipv4-unicast', 'ipv6-unicast'],
        fourOctetAS: asn,
        routeRefresh: true,
        // RFC 4724: we announce only; the node's data plane (kube-proxy) forwards on while
        // the speaker restarts, so forwarding state is preserved (F) for both families.
        // R: this process has just started, so this may be the restart the peer waits for.
        ...(this.#peer.enableGracefulRestart
          ? { gracefulRestart: { restartTime: GR_RESTART_TIME_S, restarting: this.#opts.justStarted?.() ?? false, families: ['ipv4-unicast', 'ipv6-unicast'] as const, forwardingPreserved: true } }
          : {}),
        unknown: [],
      },
    };
  }

  #receive(chunk: Buffer): void {
    this.#reader.push(chunk);
    for (;;) {
      const msg = this.#reader.next();
      if (msg === undefined) return;
      if (msg.type === 'error') {
        this.#log.warn({ reason: msg.reason }, 'malformed message from the peer; closing');
        this.#write({ type: 'notification', code: msg.code, subcode: msg.subcode, data: msg.data });
        this.#fail(`we sent NOTIFICATION ${describeNotification(msg.code, msg.subcode)}: ${msg.reason}`);
        return;
      }
      // RFC 4271 8.2.2: every message received restarts the hold timer.
      if (this.#state === 'established' && this.#holdTime > 0) this.#armHold(this.#holdTime);
      this.#handle(msg);
      if (!this.#socket) return;
    }
  }

  #handle(msg: BGPMessage): void {
    switch (msg.type) {
      case 'open':
        return this.#onOpen(msg);
      case 'keepalive':
        if (this.#state === 'open-confirm') this.#established();
        return;
      case 'update':
        // Received routes are not used; counting them shows a misconfigured peer.
        this.counters.updatesReceived++;
        return;
      case 'notification':
        this.#fail(`the peer sent NOTIFICATION ${describeNotification(msg.code, msg.subcode)}${msg.data.length ? ` (data ${msg.data.toString('hex')})` : ''}`);
        return;
      case 'route-refresh':
        // RFC 2918: send everything again.
        if (this.#state === 'established') {
          this.#sent.clear();
          this.#sync();
        }
        return;
    }
  }

  #onOpen(open: OpenMessage): void {
    if (this.#state !== 'open-sent') {
      this.#notify(ERROR.fsm, UNSPECIFIC, `OPEN received in state ${this.#state}`); // RFC 4271 6.6 FSM error
      return;
    }
    // Graceful restart holds when both sides advertised it (RFC 4724 3).
    this.#gracefulRestartNegotiated = this.#peer.enableGracefulRestart && open.capabilities.gracefulRestart !== undefined;
    const peerAS = open.capabilities.fourOctetAS ?? open.myAS;
    const myAS = this.#peer.localASN ?? this.#peer.myASN;
    const expected = this.#peer.peerASN;
    const ok =
      expected !== undefined ? peerAS === expected : this.#peer.dynamicASN === 'internal' ? peerAS === myAS : peerAS !== myAS;
    if (!ok) {
      const data = Buffer.alloc(2);
      data.writeUInt16BE(open.myAS);
      this.#notify(ERROR.open, OPEN_SUBCODE.badPeerAS, `peer AS ${peerAS}, expected ${expected ?? this.#peer.dynamicASN}`, data);
      return;
    }
    this.#peerAS = peerAS;
    // RFC 4271 4.2: the smaller hold time; 0 means no keepalives and no hold timer.
    this.#holdTime = Math.min(open.holdTime, this.#peer.holdTime);
    this.#write({ type: 'keepalive' });
    this.#setState('open-confirm');
    this.#armHold(this.#holdTime > 0 ? this.#holdTime : OPEN_SENT_HOLD_S);
  }

  #established(): void {
    this.#setState('established');
    this.#failures = 0;
    this.#log.info({ holdTime: this.#holdTime, peerAS: this.#peerAS }, 'BGP session established');
    if (this.#holdTime > 0) this.#armHold(this.#holdTime);
    else this.#holdTimer?.cancel();
    this.#scheduleKeepalive();
    this.#startBFD();
    this.#sent.clear();
    this.#sync();
    // RFC 4724 2: End-of-RIB (an empty UPDATE; MP_UNREACH with no prefixes for IPv6)
    // tells the peer our initial routes are complete.
    this.#write(endOfRIB('ipv4-unicast'));
    this.#write(endOfRIB('ipv6-unicast'));
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
    this.#bfdWasUp = false;
    const bfd = new BFDSession({
      peerAddress: this.#peer.peerAddress,
      localAddress: local,
      profile,
      clock: this.#opts.clock,
      log: this.#log,
      onStateChange: (state) => {
        if (state === 'up') this.#bfdWasUp = true;
        else if (state === 'down' && this.#bfdWasUp && bfd === this.#bfd) this.#notify(ERROR.cease, CEASE_SUBCODE.bfdDown, 'BFD reports the path to the peer down'); // RFC 9384 3: Cease / BFD Down
      },
    });
    this.#bfd = bfd;
    bfd.start().catch((err: unknown) => this.#log.error({ err: String(err) }, 'cannot start BFD; the session runs without it'));
  }

  #scheduleKeepalive(): void {
    this.#keepaliveTimer?.cancel();
    if (this.#holdTime === 0 || this.#state !== 'established') return;
    // RFC 4271 10: keepalive at a third of the hold time unless configured shorter.
    const every = Math.max(1, Math.min(this.#peer.keepaliveTime || this.#holdTime / 3, this.#holdTime / 3));
    this.#keepaliveTimer = this.#opts.clock.setTimeout(() => {
      this.#write({ type: 'keepalive' });
      this.#scheduleKeepalive();
    }, every * 1000);
  }

  #armHold(seconds: number): void {
    this.#holdTimer?.cancel();
    this.#holdTimer = this.#opts.clock.setTimeout(() => {
      this.#notify(ERROR.holdTimerExpired, UNSPECIFIC, `nothing heard from the peer for ${seconds} s`);
    }, seconds * 1000);
  }

  /** Announces what is new or changed and withdraws what is gone since the last sync. */
  #sync(): void {
    const withdraw: Record<AFI_SAFI, string[]> = { 'ipv4-unicast': [], 'ipv6-unicast': [] };
    for (const prefix of this.#sent.keys()) if (!this.#desired.has(prefix)) withdraw[familyOf(prefix)].push(prefix);
    const announce = new Map<string, { family: AFI_SAFI; attributes: RouteAttributes; prefixes: string[] }>();
    for (const [prefix, attrs] of this.#desired) {
      const key = attributeKey(attrs);
      if (this.#sent.get(prefix) === key) continue;
      const family = familyOf(prefix);
      const group = `${family} ${key}`;
      const entry = announce.get(group) ?? { family, attributes: attrs, prefixes: [] };
      entry.prefixes.push(prefix);
      announce.set(group, entry);
    }
    // RFC 4271 4.3: an UPDATE is at most 4096 bytes; updatesFor splits as needed.
    for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      for (const update of updatesFor(withdraw[family], 'withdraw', family)) this.#sendUpdate(update);
      for (const p of withdraw[family]) this.#sent.delete(p);
    }
    for (const { family, attributes, prefixes } of announce.values()) {
      const attrs = this.#pathAttributes(attributes);
      const nextHop = this.#nextHop(family);
      if (!nextHop) {
        this.#log.warn({ family, prefixes: prefixes.length }, `no ${family === 'ipv6-unicast' ? 'IPv6' : 'IPv4'} next hop on this session's interface; not announced`);
        continue;
      }
      const withNextHop: PathAttributes = family === 'ipv4-unicast' ? { ...attrs, nextHop } : { ...attrs, mpReach: { family, nextHops: [nextHop], prefixes: [] } };
      for (const update of updatesFor(prefixes, withNextHop, family)) this.#sendUpdate(update);
      for (const p of prefixes) this.#sent.set(p, attributeKey(attributes));
    }
    this.counters.prefixesAnnounced = this.#sent.size;
  }

  #sendUpdate(update: UpdateMessage): void {
    this.counters.updatesSent++;
    this.#write(update);
  }

  /** docs/COMPATIBILITY.md "Speaker, BGP mode": ORIGIN IGP; AS_PATH empty for iBGP, [myASN] for eBGP; LOCAL_PREF for iBGP only (RFC 4271 5.1.5). */
  #pathAttributes(r: RouteAttributes): PathAttributes {
    const myAS = this.#peer.localASN ?? this.#peer.myASN;
    const internal = this.#peerAS === myAS;
    return {
      origin: 'igp',
      asPath: internal ? [] : [{ type: 'sequence', asns: [myAS] }],
      ...(internal ? { localPref: r.localPref ?? 100 } : {}),
      ...(r.communities.length > 0 ? { communities: r.communities } : {}),
      ...(r.largeCommunities.length > 0 ? { largeCommunities: r.largeCommunities } : {}),
    };
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

  #write(msg: BGPMessage): void {
    if (!this.#socket || this.#socket.destroyed) return;
    let bytes: Buffer;
    try {
      bytes = encode(msg);
    } catch (err) {
      // A value the wire cannot carry (a bad router ID, say): a configuration problem,
      // reported; the process goes on.
      this.#log.error({ err: (err as Error).message, message: msg.type }, 'cannot encode a BGP message');
      if (msg.type !== 'notification') this.#fail(`cannot encode ${msg.type}: ${(err as Error).message}`);
      return;
    }
    this.#socket.write(bytes);
  }

  #notify(code: number, subcode: number, reason: string, data = Buffer.alloc(0)): void {
    this.#write({ type: 'notification', code, subcode, data });
    this.#fail(`we sent NOTIFICATION ${describeNotification(code, subcode)}: ${reason}`);
  }

  #close(why: string): void {
    this.#bfd?.stop();
    this.#bfd = undefined;
    this.#holdTimer?.cancel();
    this.#keepaliveTimer?.cancel();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) {
      socket.removeAllListeners('close');
      socket.removeAllListeners('data');
      socket.on('error', () => {});
      socket.end();
      setTimeout(() => socket.destroy(), 100).unref();
    }
    this.#sent.clear();
    if (this.#state !== 'idle') this.#log.debug({ why }, 'session closed');
    this.#setState('idle');
  }

  #fail(why: string): void {
    if (!this.#socket && this.#state === 'idle') return;
    this.#attempt++; // a connect still in flight is stale now
    const wasEstablished = this.#state === 'established';
    this.#close(why);
    if (this.#stopped) return;
    const delayMs = backoffDelay(this.#failures++, (this.#opts.minRetry ?? this.#peer.connectTime ?? 2) * 1000, MAX_RETRY_S * 1000);
    this.#log[wasEstablished ? 'warn' : 'info']({ why, retryInS: delayMs / 1000 }, wasEstablished ? 'BGP session lost' : 'BGP session not established');
    this.#retryTimer?.cancel();
    this.#retryTimer = this.#opts.clock.setTimeout(() => this.#connect(), delayMs);
  }
}

function familyOf(prefix: string): AFI_SAFI {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

function attributeKey(r: RouteAttributes): string {
  return JSON.stringify([r.localPref ?? null, r.communities, r.largeCommunities.map((c) => [c.globalAdmin, c.localData1, c.localData2])]);
}
