// A scripted hostile BGP peer over loopback against live sessions (issue 12 item 6):
// wrong marker, oversized message, malformed attributes, an UPDATE flood, an OPEN with
// unknown capabilities, a peer that stops reading. Each time the session reacts as
// RFC 4271 / RFC 7606 say, and a second session of the same speaker (BGPSessions, one
// process) stays Established, keeps its connection and goes on exchanging KEEPALIVEs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger } from '../../src/observability/logging.ts';
import { realClock } from '../../src/time/clock.ts';
import { BGPSessions } from '../../src/speaker/bgp/sessions.ts';
import { encode } from '../../src/speaker/bgp/encode.ts';
import { MessageReader } from '../../src/speaker/bgp/decode.ts';
import type { BGPMessage, NotificationMessage, UpdateMessage } from '../../src/speaker/bgp/messages.ts';
import type { BGPPeer } from '../../src/config/model.ts';

const servers: Server[] = [];
const speakers: BGPSessions[] = [];
after(() => {
  for (const b of speakers) for (const s of b.sessions) s.stop();
  servers.forEach((s) => s.close());
});

interface Peer {
  port: number;
  /** Every connection's received messages, in order. */
  received: BGPMessage[][];
  sockets: Socket[];
}

/** A peer that completes the OPEN exchange (with `extraCapabilities` in its OPEN), then runs `hostile` once the session is up. */
async function peer(hostile?: (socket: Socket) => void, extraCapabilities: { code: number; value: Buffer }[] = []): Promise<Peer> {
  const p: Peer = { port: 0, received: [], sockets: [] };
  const server = createServer((socket) => {
    const log: BGPMessage[] = [];
    p.received.push(log);
    p.sockets.push(socket);
    const reader = new MessageReader();
    let up = false;
    const keepalives = setInterval(() => socket.writable && socket.write(encode({ type: 'keepalive' })), 1000);
    socket.on('close', () => clearInterval(keepalives));
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      reader.push(chunk);
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        if (m.type === 'error') throw new Error(`ferrolb sent a malformed message: ${m.reason}`);
        log.push(m);
        if (m.type === 'open') {
          socket.write(
            encode({
              type: 'open', version: 4, myAS: 64512, holdTime: 9, routerID: '198.18.0.1',
              capabilities: { multiprotocol: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAS: 64512, routeRefresh: true, unknown: extraCapabilities },
            }),
          );
          socket.write(encode({ type: 'keepalive' }));
        } else if (m.type === 'keepalive' && !up) {
          up = true; // our KEEPALIVE: the session is Established on both sides
          hostile?.(socket);
        }
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.port = (server.address() as { port: number }).port;
  return p;
}

function config(name: string, port: number): BGPPeer {
  return {
    name, myASN: 64513, peerASN: 64512, peerAddress: '127.0.0.1', peerPort: port, holdTime: 9, keepaliveTime: 1,
    ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false,
  };
}

const ROUTE = { communities: [], largeCommunities: [] };

async function until<T>(what: string, check: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const notification = (p: Peer, connection = 0) => p.received[connection]?.find((m): m is NotificationMessage => m.type === 'notification');
const keepalives = (p: Peer) => (p.received[0] ?? []).filter((m) => m.type === 'keepalive').length;
const updates = (p: Peer, connection = 0) => (p.received[connection] ?? []).filter((m): m is UpdateMessage => m.type === 'update');

/** One speaker with a session to `hostile` and one to a well-behaved witness; resolves when both are Established. */
async function speaker(hostile: Peer, routes = new Map([['198.18.1.10/32', ROUTE]])) {
  const witness = await peer();
  const bgp = new BGPSessions(realClock, silentLogger);
  speakers.push(bgp);
  bgp.apply(
    [
      { peer: config('hostile', hostile.port), routes, services: new Map() },
      { peer: config('witness', witness.port), routes: new Map([['198.18.1.20/32', ROUTE]]), services: new Map() },
    ],
    '198.18.0.11',
  );
  await until('the witness session', () => (bgp.established().has('witness') ? true : undefined));
  return { bgp, witness };
}

/** The witness stayed up on its first connection and still gets KEEPALIVEs after the attack. */
async function witnessUnharmed(bgp: BGPSessions, witness: Peer): Promise<void> {
  const before = keepalives(witness);
  await until('a KEEPALIVE to the witness after the attack', () => (keepalives(witness) > before ? true : undefined), 4000);
  assert.ok(bgp.established().has('witness'));
  assert.equal(witness.received.length, 1, 'the witness was never reconnected');
  assert.equal(notification(witness), undefined);
}

function header(length: number, type: number, marker = Buffer.alloc(16, 0xff)): Buffer {
  const b = Buffer.alloc(19);
  marker.copy(b);
  b.writeUInt16BE(length, 16);
  b[18] = type;
  return b;
}

/** An UPDATE with the given path attributes (hex) and one NLRI, 198.18.5.0/24. */
function updateWith(attributes: string): Buffer {
  const a = Buffer.from(attributes.replace(/ /g, ''), 'hex');
  const nlri = Buffer.from('18c61205', 'hex');
  const body = Buffer.concat([Buffer.from([0, 0, a.length >> 8, a.length & 0xff]), a, nlri]);
  return Buffer.concat([header(19 + body.length, 2), body]);
}
const GOOD_ATTRIBUTES = '40 01 01 00  40 02 06 02 01 0000fc00  40 03 04 c6120001';

test('a wrong marker: Message Header Error / Connection Not Synchronized (RFC 4271 §6.1), the connection closed; the other session untouched', async () => {
  const hostile = await peer((s) => s.write(header(19, 4, Buffer.alloc(16, 0xfe))));
  const { bgp, witness } = await speaker(hostile);
  const n = await until('the NOTIFICATION', () => notification(hostile));
  assert.deepEqual([n.code, n.subcode], [1, 1]);
  await until('the connection closed', () => (hostile.sockets[0]!.destroyed || hostile.sockets[0]!.readableEnded ? true : undefined));
  await witnessUnharmed(bgp, witness);
});

test('an oversized message (length 4097): Bad Message Length with the length field as data (RFC 4271 §6.1)', async () => {
  const hostile = await peer((s) => s.write(Buffer.concat([header(4097, 2), Buffer.alloc(4078)])));
  const { bgp, witness } = await speaker(hostile);
  const n = await until('the NOTIFICATION', () => notification(hostile));
  assert.deepEqual([n.code, n.subcode, n.data.toString('hex')], [1, 2, '1001']);
  await witnessUnharmed(bgp, witness);
});

test('malformed attributes: a bad ORIGIN, a short MED or AGGREGATOR keep the session (RFC 7606 treat-as-withdraw, attribute discard); MP_REACH_NLRI twice resets it (§3(g))', async () => {
  let socket: Socket | undefined;
  const hostile = await peer((s) => {
    socket = s;
    s.write(updateWith('40 01 01 03  40 02 06 02 01 0000fc00  40 03 04 c6120001')); // ORIGIN 3: treat-as-withdraw (§7.1)
    s.write(updateWith(GOOD_ATTRIBUTES + ' 80 04 03 000000')); // MED of 3 bytes (§7.4)
    s.write(updateWith(GOOD_ATTRIBUTES + ' c0 07 06 0000fc00c612')); // AGGREGATOR of 6 bytes: discard (§7.7)
    s.write(updateWith(GOOD_ATTRIBUTES)); // and a good one
  });
  const { bgp, witness } = await speaker(hostile);
  await until('the UPDATEs read', () => (bgp.sessions.find((x) => x.peerName === 'hostile')!.counters.malformedUpdatesReceived === 3 ? true : undefined));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(notification(hostile), undefined, 'no NOTIFICATION for treat-as-withdraw or attribute discard');
  assert.ok(bgp.established().has('hostile'));
  assert.equal(hostile.received.length, 1, 'the same connection');
  const mp = '80 0e 1e 0002 01 10 20010db8001800000000000000000001 00 40 20010db800180000';
  socket!.write(updateWith(GOOD_ATTRIBUTES + mp + mp));
  const n = await until('the NOTIFICATION', () => notification(hostile));
  assert.deepEqual([n.code, n.subcode], [3, 1]);
  await witnessUnharmed(bgp, witness);
});

test('an UPDATE flood (20,000 in one burst, a quarter of them malformed): all read, the session and the other one stay up', async () => {
  const FLOOD = 20_000;
  const hostile = await peer((s) => {
    const good = updateWith(GOOD_ATTRIBUTES);
    const bad = updateWith('40 01 01 03  40 02 06 02 01 0000fc00  40 03 04 c6120001');
    s.write(Buffer.concat(Array.from({ length: FLOOD }, (_, i) => (i % 4 === 0 ? bad : good))));
  });
  const { bgp, witness } = await speaker(hostile);
  const session = bgp.sessions.find((x) => x.peerName === 'hostile')!;
  await until('every UPDATE read', () => (session.counters.updatesReceived + session.counters.malformedUpdatesReceived === FLOOD ? true : undefined), 20000);
  assert.equal(session.counters.malformedUpdatesReceived, FLOOD / 4);
  assert.ok(bgp.established().has('hostile'));
  assert.equal(notification(hostile), undefined);
  await witnessUnharmed(bgp, witness);
});

test('an OPEN with unknown capabilities (RFC 5492 §3: ignored): the session comes up and the route goes out', async () => {
  const unknown = [200, 201, 239, 255, 3, 71].map((code, i) => ({ code, value: Buffer.alloc(i * 7, code) }));
  const hostile = await peer(undefined, unknown);
  const { bgp, witness } = await speaker(hostile);
  await until('the route', () => updates(hostile).find((u) => u.nlri.includes('198.18.1.10/32')));
  assert.ok(bgp.established().has('hostile'));
  await witnessUnharmed(bgp, witness);
});

test('a peer that stops reading: its session stays up while it keeps sending KEEPALIVEs, the other session is unaffected, and every route arrives once it reads again', async () => {
  const ROUTES = 5000;
  let socket: Socket | undefined;
  const hostile = await peer((s) => {
    socket = s;
    s.pause();
  });
  const routes = new Map(Array.from({ length: ROUTES }, (_, i) => [`198.19.${i >> 8}.${i & 255}/32`, ROUTE] as const));
  const { bgp, witness } = await speaker(hostile, routes);
  await until('the hostile session up', () => (bgp.established().has('hostile') ? true : undefined));
  await new Promise((r) => setTimeout(r, 2500)); // longer than two keepalive intervals
  assert.ok(bgp.established().has('hostile'), 'a slow reader is not a dead peer while it sends KEEPALIVEs');
  await witnessUnharmed(bgp, witness);
  socket!.resume();
  await until('every route', () => {
    const got = new Set(updates(hostile).flatMap((u) => u.nlri));
    return got.size >= ROUTES ? true : undefined;
  }, 15000);
});
