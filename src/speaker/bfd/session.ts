// A single-hop BFD session (RFC 5880, RFC 5881 for IPv4/IPv6 single hop): control
// packets to UDP 3784 with TTL 255, the three-way handshake Down -> Init -> Up, and
// detection: no packet from the peer for detectMult x the agreed interval means the
// path is down. The BGP session tied to it is then torn down at once instead of after
// the BGP hold time (90 s by default).
//
// This file is the driver: sockets and timers. Every decision is the pure machine's
// (machine.ts), which it feeds with events and whose actions it carries out.
//
// Not implemented: echo mode, demand mode, authentication, and RFC 5881 5's check that
// received packets have TTL 255 (Node cannot read a datagram's TTL).
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { Clock, Timer } from '../../time/clock.ts';
import type { Logger } from '../../observability/logging.ts';
import type { BFDProfile } from '../../config/model.ts';
import { encodeControl, parseControl, type BFDState } from './packet.ts';
import { bfdStep, INITIAL_BFD_STATE, jittered, type BFDEvent, type BFDMachineParams, type BFDMachineState } from './machine.ts';

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
  readonly #params: BFDMachineParams;
  #machine: BFDMachineState = INITIAL_BFD_STATE;
  #socket: Socket | undefined;
  #sender: Socket | undefined;
  #txTimer: Timer | undefined;
  #detectTimer: Timer | undefined;

  constructor(opts: BFDSessionOptions) {
    this.#opts = opts;
    this.#params = { profile: opts.profile, myDiscriminator: randomInt(1, 2 ** 31) };
  }

  get state(): BFDState {
    return this.#machine.state;
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
    this.#step({ type: 'start' });
  }

  stop(): void {
    this.#step({ type: 'stop' });
  }

  #receive(datagram: Buffer): void {
    if (this.#machine.stopped) return;
    const parsed = parseControl(datagram);
    if (!parsed.ok) {
      this.#opts.log.debug({ reason: parsed.reason }, 'BFD packet dropped');
      return;
    }
    this.#step({ type: 'received', packet: parsed.packet });
  }

  #step(event: BFDEvent): void {
    const { state, actions } = bfdStep(this.#params, this.#machine, event, this.#opts.clock.now());
    this.#machine = state;
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.#sender?.send(encodeControl(a.packet), BFD_PORT, this.#opts.peerAddress);
          break;
        case 'schedule-transmit':
          this.#txTimer?.cancel();
          this.#txTimer = this.#opts.clock.setTimeout(() => this.#step({ type: 'transmit-timer' }), jittered(a.intervalMs, Math.random()));
          break;
        case 'arm-detection':
          this.#detectTimer?.cancel();
          this.#detectTimer = this.#opts.clock.setTimeout(() => this.#step({ type: 'detection-timer' }), a.atMs - this.#opts.clock.now());
          break;
        case 'state-changed':
          this.#opts.log.info({ peer: this.#opts.peerAddress, from: a.from, to: a.to, diag: a.diag }, 'BFD state');
          this.#opts.onStateChange(a.to);
          break;
        case 'close': {
          this.#txTimer?.cancel();
          this.#detectTimer?.cancel();
          this.#socket?.close();
          // The AdminDown just sent must leave before its socket closes.
          const sender = this.#sender;
          setTimeout(() => sender?.close(), 50).unref();
          break;
        }
      }
    }
  }
}
