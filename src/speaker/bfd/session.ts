// A single-hop BFD session (RFC 5880, RFC 5881 for IPv4/IPv6 single hop): control
// packets to UDP 3784 with TTL 255, the three-way handshake Down -> Init -> Up, and
// detection: no packet from the peer for detectMult x the agreed interval means the
// path is down. The BGP session tied to it is then torn down at once instead of after
// the BGP hold time (90 s by default).
//
// Not implemented: echo mode, demand mode, authentication, and RFC 5881 5's check that
// received packets have TTL 255 (Node cannot read a datagram's TTL).
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { Clock, Timer } from '../../time/clock.ts';
import type { Logger } from '../../observability/logging.ts';
import type { BFDProfile } from '../../config/model.ts';
import { DIAG, encodeControl, parseControl, type BFDState, type ControlPacket } from './packet.ts';

export const BFD_PORT = 3784;

export interface BFDSessionOptions {
  readonly peerAddress: string;
  readonly localAddress: string;
  readonly profile: BFDProfile;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onStateChange: (state: BFDState) => void;
}

export class BFDSession {
  readonly #opts: BFDSessionOptions;
  readonly #myDiscriminator = randomInt(1, 2 ** 31);
  #yourDiscriminator = 0;
  #state: BFDState = 'down';
  #diag: number = DIAG.none;
  #remote: ControlPacket | undefined;
  #socket: Socket | undefined;
  #txTimer: Timer | undefined;
  #detectTimer: Timer | undefined;
  #stopped = false;
  /** A Poll Sequence is running: our packets carry P until the peer answers with F. */
  #polling = false;

  constructor(opts: BFDSessionOptions) {
    this.#opts = opts;
  }

  get state(): BFDState {
    return this.#state;
  }

  async start(): Promise<void> {
    const v6 = this.#opts.peerAddress.includes(':');
    const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: true });
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address.replace(/^::ffff:/, '') === this.#opts.peerAddress) this.#receive(msg);
    });
    socket.on('error', (err) => this.#opts.log.warn({ err: String(err) }, 'BFD socket'));
    // RFC 5881 4: packets to 3784 from a source port in 49152-65535; we listen on 3784
    // of the session's local address and send from that socket's own source port.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(BFD_PORT, this.#opts.localAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
    this.#sender = createSocket({ type: v6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve) => this.#sender!.bind(randomInt(49152, 65536), this.#opts.localAddress, () => resolve()));
    // RFC 5881 5: sent with TTL 255 so the peer can check the packet was not forwarded.
    this.#sender.setTTL(255);
    this.#sender.on('error', () => {});
    this.#transmit();
  }

  #sender: Socket | undefined;

  stop(): void {
    if (this.#stopped) return;
    // RFC 5880 6.8.16: AdminDown tells the peer not to treat this as a failure.
    this.#state = 'adminDown';
    this.#diag = DIAG.adminDown;
    this.#send();
    this.#stopped = true;
    this.#txTimer?.cancel();
    this.#detectTimer?.cancel();
    this.#socket?.close();
    const sender = this.#sender;
    setTimeout(() => sender?.close(), 50).unref();
  }

  /** Microseconds: what we ask of the peer and offer. */
  #desiredMinTx(): number {
    // RFC 5880 6.8.3: at least 1 s until the session is Up.
    return this.#state === 'up' ? this.#opts.profile.transmitInterval * 1000 : Math.max(1_000_000, this.#opts.profile.transmitInterval * 1000);
  }

  #packet(final = false): ControlPacket {
    return {
      diag: this.#diag,
      state: this.#state,
      poll: this.#polling && !final,
      final,
      controlPlaneIndependent: false,
      demand: false,
      detectMult: this.#opts.profile.detectMultiplier,
      myDiscriminator: this.#myDiscriminator,
      yourDiscriminator: this.#yourDiscriminator,
      desiredMinTxInterval: this.#desiredMinTx(),
      requiredMinRxInterval: this.#opts.profile.receiveInterval * 1000,
      requiredMinEchoRxInterval: 0,
    };
  }

  #send(final = false): void {
    this.#sender?.send(encodeControl(this.#packet(final)), BFD_PORT, this.#opts.peerAddress);
  }

  #transmit(): void {
    if (this.#stopped) return;
    // RFC 5880 6.8.2: passive mode sends nothing until the peer has been heard.
    if (!this.#opts.profile.passiveMode || this.#remote) this.#send();
    // RFC 5880 6.8.7: the interval is the larger of our desired TX and the peer's
    // required RX, jittered to 75-100% of it.
    const interval = Math.max(this.#desiredMinTx(), this.#remote?.requiredMinRxInterval ?? 0) / 1000;
    this.#txTimer = this.#opts.clock.setTimeout(() => this.#transmit(), interval * (0.75 + Math.random() * 0.25));
  }

  #receive(datagram: Buffer): void {
    if (this.#stopped) return;
    const parsed = parseControl(datagram);
    if (!parsed.ok) {
      this.#opts.log.debug({ reason: parsed.reason }, 'BFD packet dropped');
      return;
    }
    const p = parsed.packet;
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.#myDiscriminator) return;
    this.#remote = p;
    this.#yourDiscriminator = p.myDiscriminator;
    if (p.final) this.#polling = false; // RFC 5880 6.5: the Poll Sequence is over
    this.#armDetection();
    if (p.poll) this.#send(true); // RFC 5880 6.5: answer a Poll with Final at once
    // RFC 5880 6.8.6 state machine.
    if (p.state === 'adminDown') {
      if (this.#state !== 'down') this.#change('down', DIAG.neighborSignaledDown);
      return;
    }
    if (this.#state === 'down') {
      if (p.state === 'down') this.#change('init', DIAG.none);
      else if (p.state === 'init') this.#change('up', DIAG.none);
    } else if (this.#state === 'init') {
      if (p.state === 'init' || p.state === 'up') this.#change('up', DIAG.none);
    } else if (this.#state === 'up' && p.state === 'down') {
      this.#change('down', DIAG.neighborSignaledDown);
    }
  }

  #armDetection(): void {
    this.#detectTimer?.cancel();
    const remote = this.#remote;
    if (!remote) return;
    // RFC 5880 6.8.4: detection time = the peer's multiplier x the agreed interval
    // (the larger of our required RX and the peer's desired TX).
    const agreed = Math.max(this.#opts.profile.receiveInterval * 1000, remote.desiredMinTxInterval) / 1000;
    this.#detectTimer = this.#opts.clock.setTimeout(() => {
      if (this.#state === 'init' || this.#state === 'up') this.#change('down', DIAG.detectionTimeExpired);
      this.#remote = undefined;
      this.#yourDiscriminator = 0;
    }, remote.detectMult * agreed);
  }

  #change(state: BFDState, diag: number): void {
    const was = this.#state;
    this.#state = state;
    this.#diag = diag;
    this.#opts.log.info({ peer: this.#opts.peerAddress, from: was, to: state, diag }, 'BFD state');
    if (state === 'up' || was === 'up') {
      // RFC 5880 6.8.3: leaving or reaching Up changes our DesiredMinTxInterval (1 s
      // while not Up), which starts a Poll Sequence; the new rate applies from now,
      // not from the next tick of the old, slower timer.
      this.#polling = true;
      this.#txTimer?.cancel();
      this.#transmit();
    } else {
      this.#send();
    }
    this.#opts.onStateChange(state);
  }
}
