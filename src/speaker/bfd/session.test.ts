// A BFD session against a scripted peer over loopback UDP (real sockets, real timers):
// the three-way handshake, detection when the peer falls silent, AdminDown, garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { realClock } from '../../time/clock.ts';
import { createLogger } from '../../observability/logging.ts';
import { BFDSession, BFD_PORT } from './session.ts';
import { encodeControl, parseControl, type BFDState, type ControlPacket } from './packet.ts';

const LOCAL = '127.0.0.1';
const PEER = '127.0.0.2'; // on lo in every Linux network namespace

const profile = { name: 'fast', receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3, echoInterval: 50, echoMode: false, passiveMode: false, minimumTtl: 254 };

function packet(state: BFDState, my: number, your: number): Buffer {
  const p: ControlPacket = { diag: 0, state, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3, myDiscriminator: my, yourDiscriminator: your, desiredMinTxInterval: 100_000, requiredMinRxInterval: 100_000, requiredMinEchoRxInterval: 0 };
  return encodeControl(p);
}

test('handshake Down -> Init -> Up with a scripted peer; silence is detected; AdminDown is sent on stop', async () => {
  const peer = createSocket('udp4');
  await new Promise<void>((resolve) => peer.bind(BFD_PORT, PEER, () => resolve()));
  const received: ControlPacket[] = [];
  peer.on('message', (msg) => {
    const r = parseControl(msg);
    if (r.ok) received.push(r.packet);
  });
  const states: BFDState[] = [];
  const session = new BFDSession({ peerAddress: PEER, localAddress: LOCAL, profile, clock: realClock, log: createLogger('test', 'fatal'), onStateChange: (s) => states.push(s) });
  const send = (state: BFDState, your: number) => peer.send(packet(state, 4242, your), BFD_PORT, LOCAL);
  try {
    await session.start();
    // It speaks first (not passive), at most once a second until Up (RFC 5880 6.8.3).
    const wait = async (what: string, ok: () => boolean, ms = 3000) => {
      const until = Date.now() + ms;
      while (!ok() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.ok(ok(), what);
    };
    await wait('a first packet from the session', () => received.length > 0);
    const mine = received[0]!.myDiscriminator;
    assert.equal(received[0]!.state, 'down');
    assert.ok(received[0]!.desiredMinTxInterval >= 1_000_000, 'slow until Up');

    // Garbage and a packet for another session are ignored.
    peer.send(Buffer.from('not bfd'), BFD_PORT, LOCAL);
    peer.send(packet('up', 1, mine + 1), BFD_PORT, LOCAL);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(states, []);

    send('down', 0);
    await wait('Init', () => session.state === 'init');
    send('up', mine);
    await wait('Up', () => session.state === 'up');
    assert.deepEqual(states, ['init', 'up']);
    // Up: it now transmits at the profile's 100 ms (jittered 75-100%), not once a second.
    const before = received.length;
    const keepalive = setInterval(() => send('up', mine), 80);
    await new Promise((r) => setTimeout(r, 600));
    clearInterval(keepalive);
    assert.ok(received.length - before >= 4, `${received.length - before} packets in 600 ms`);
    assert.ok(received.slice(before).every((p) => p.state === 'up' && p.poll), 'a Poll Sequence for the new interval (6.8.3), unanswered by this peer');
    assert.equal(session.state, 'up', 'kept up while the peer talks');

    // The peer falls silent: down after 3 x 100 ms (detection time), with diag 1.
    const silentAt = Date.now();
    await wait('Down on detection', () => session.state === 'down', 2000);
    const took = Date.now() - silentAt;
    assert.ok(took >= 200 && took < 1000, `detected after ${took} ms`);
    // The Down packet may still be in flight when the state changes (a loaded machine):
    // judge the first one that says Down.
    await wait('a Down packet', () => received.slice(before).some((p) => p.state === 'down'), 2000);
    assert.equal(received.slice(before).find((p) => p.state === 'down')?.diag, 1, 'Control Detection Time Expired');
  } finally {
    const n = received.length;
    session.stop();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.slice(n).at(-1)?.state, 'adminDown', 'AdminDown on stop (RFC 5880 6.8.16)');
    peer.close();
  }
});
