// A BGP session against scripted peers over real TCP on loopback: what ferrolb sends to
// a well-behaved peer, and how it treats a hostile or misconfigured one (the right
// NOTIFICATION, a retry, and the process keeps running).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { realClock } from '../../src/time/clock.ts';
import { BGPSession, type SessionState } from '../../src/speaker/bgp/session.ts';
import { encode } from '../../src/speaker/bgp/encode.ts';
import { MessageReader } from '../../src/speaker/bgp/decode.ts';
import type { BGPMessage, UpdateMessage } from '../../src/speaker/bgp/messages.ts';
import type { BGPPeer } from '../../src/config/model.ts';

const servers: Server[] = [];
const sessions: BGPSession[] = [];
after(() => {
  sessions.forEach((s) => s.stop());
  servers.forEach((s) => s.close());
});

interface Peer {
  port: number;
  /** Every connection's received messages, in order. */
  received: BGPMessage[][];
  sockets: Socket[];
}

/** A TCP server playing a BGP peer: `onMessage` answers each message we get. */
async function scriptedPeer(onMessage: (msg: BGPMessage, socket: Socket) => void, onConnect?: (socket: Socket) => void, host = '127.0.0.1'): Promise<Peer> {
  const peer: Peer = { port: 0, received: [], sockets: [] };
  const server = createServer((socket) => {
    const log: BGPMessage[] = [];
    peer.received.push(log);
    peer.sockets.push(socket);
    const reader = new MessageReader();
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      reader.push(chunk);
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        if (m.type === 'error') throw new Error(`ferrolb sent a malformed message: ${m.reason}`);
        log.push(m);
        onMessage(m, socket);
      }
    });
    onConnect?.(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  peer.port = (server.address() as { port: number }).port;
  return peer;
}

function peerConfig(port: number, extra: Partial<BGPPeer> = {}): BGPPeer {
  return {
    name: 'test-peer', myASN: 64513, peerASN: 64512, peerAddress: '127.0.0.1', peerPort: port, holdTime: 9, keepaliveTime: 3,
    ebgpMultiHop: false, enableGracefulRestart: false, nodeSelectors: [], dualStackAddressFamily: false, ...extra,
  };
}

const OPEN_64512: BGPMessage = {
  type: 'open', version: 4, myAS: 64512, holdTime: 90, routerID: '198.18.0.1',
  capabilities: { multiprotocol: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAS: 64512, routeRefresh: true, unknown: [] },
};

function wellBehaved(msg: BGPMessage, socket: Socket): void {
  if (msg.type === 'open') {
    socket.write(encode(OPEN_64512));
    socket.write(encode({ type: 'keepalive' }));
  }
}

function startSession(peer: BGPPeer, states: SessionState[] = []): BGPSession {
  const s = new BGPSession({ peer, routerID: '198.18.0.11', clock: realClock, log: pino({ level: 'silent' }), minRetry: 0.2, onStateChange: (st) => states.push(st) });
  sessions.push(s);
  s.start();
  return s;
}

async function until<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const updates = (log: BGPMessage[] | undefined) => (log ?? []).filter((m): m is UpdateMessage => m.type === 'update');

test('OPEN as configured, then the routes with eBGP attributes, then End-of-RIB; changes as deltas', async () => {
  const peer = await scriptedPeer(wellBehaved);
  const states: SessionState[] = [];
  const s = startSession(peerConfig(peer.port), states);
  s.setRoutes(new Map([['198.18.1.10/32', { communities: [64512 * 65536 + 100], largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] }]]));
  await until('established', () => (s.state === 'established' ? true : undefined));
  assert.deepEqual(states, ['connect', 'open-sent', 'open-confirm', 'established']);
  const open = peer.received[0]![0]!;
  assert.equal(open.type, 'open');
  if (open.type === 'open') {
    assert.equal(open.myAS, 64513);
    assert.equal(open.holdTime, 9);
    assert.equal(open.capabilities.fourOctetAS, 64513);
    assert.deepEqual([...open.capabilities.multiprotocol].sort(), ['ipv4-unicast', 'ipv6-unicast']);
  }
  const announced = await until('the route', () => updates(peer.received[0]).find((u) => u.nlri.length > 0));
  assert.deepEqual(announced.nlri, ['198.18.1.10/32']);
  assert.equal(announced.attributes.origin, 'igp');
  assert.deepEqual(announced.attributes.asPath, [{ type: 'sequence', asns: [64513] }]);
  assert.equal(announced.attributes.nextHop, '127.0.0.1');
  assert.equal(announced.attributes.localPref, undefined, 'no LOCAL_PREF towards an eBGP peer');
  assert.deepEqual(announced.attributes.communities, [64512 * 65536 + 100]);
  assert.deepEqual(announced.attributes.largeCommunities, [{ globalAdmin: 64512, localData1: 1, localData2: 2 }]);
  await until('End-of-RIB', () => updates(peer.received[0]).find((u) => u.nlri.length === 0 && u.withdrawn.length === 0 && !u.attributes.mpUnreach && !u.attributes.mpReach));
  // A change: one more prefix, one gone. (An IPv6 prefix has no IPv6 next hop on this
  // IPv4 loopback session, and is left out, with a warning.)
  const before = updates(peer.received[0]).length;
  s.setRoutes(new Map([['198.18.1.11/32', { communities: [], largeCommunities: [] }], ['2001:db8:18::200/128', { communities: [], largeCommunities: [] }]]));
  await until('the delta', () => (updates(peer.received[0]).length >= before + 2 ? true : undefined));
  await new Promise((r) => setTimeout(r, 100));
  const delta = updates(peer.received[0]).slice(before);
  assert.deepEqual(delta.flatMap((u) => u.withdrawn), ['198.18.1.10/32']);
  assert.deepEqual(delta.flatMap((u) => u.nlri), ['198.18.1.11/32']);
  assert.equal(delta.length, 2, 'nothing else: no IPv6 route without an IPv6 next hop');
  s.stop();
  await until('a Cease', () => peer.received[0]!.find((m) => m.type === 'notification' && m.code === 6));
});

test('iBGP: empty AS_PATH and LOCAL_PREF', async () => {
  const peer = await scriptedPeer((msg, socket) => {
    if (msg.type === 'open') {
      socket.write(encode({
        type: 'open', version: 4, myAS: 64513, holdTime: 90, routerID: '198.18.0.12',
        capabilities: { multiprotocol: ['ipv4-unicast'], fourOctetAS: 64513, routeRefresh: true, unknown: [] },
      }));
      socket.write(encode({ type: 'keepalive' }));
    }
  });
  const s = startSession(peerConfig(peer.port, { peerASN: 64513 }));
  s.setRoutes(new Map([['198.18.1.20/32', { localPref: 150, communities: [], largeCommunities: [] }]]));
  const u = await until('the route', () => updates(peer.received[0]).find((x) => x.nlri.length > 0));
  assert.deepEqual(u.attributes.asPath, []);
  assert.equal(u.attributes.localPref, 150);
  s.stop();
});

test('a peer with the wrong AS gets OPEN Error / Bad Peer AS, and is retried', async () => {
  const peer = await scriptedPeer(wellBehaved);
  const s = startSession(peerConfig(peer.port, { peerASN: 65000 }));
  const n = await until('a NOTIFICATION', () => peer.received[0]?.find((m) => m.type === 'notification'));
  assert.equal(n.type === 'notification' && `${n.code}/${n.subcode}`, '2/2');
  await until('a second attempt', () => (peer.received.length >= 2 ? true : undefined));
  assert.notEqual(s.state, 'established');
  s.stop();
});

test('garbage from the peer: Message Header Error, connection closed, retried; nothing else breaks', async () => {
  const peer = await scriptedPeer(() => {}, (socket) => socket.write(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'.repeat(3))));
  const s = startSession(peerConfig(peer.port));
  const n = await until('a NOTIFICATION', () => peer.received[0]?.find((m) => m.type === 'notification'));
  assert.equal(n.type === 'notification' && `${n.code}/${n.subcode}`, '1/1', 'Connection Not Synchronized (bad marker)');
  await until('a second attempt', () => (peer.received.length >= 2 ? true : undefined));
  s.stop();
});

test('a peer that goes silent: Hold Timer Expired after the negotiated hold time', async () => {
  // Hold time 3 s (the smallest allowed): the peer answers the OPEN, then says nothing.
  const peer = await scriptedPeer(wellBehaved);
  const s = startSession(peerConfig(peer.port, { holdTime: 3, keepaliveTime: 1 }));
  await until('established', () => (s.state === 'established' ? true : undefined));
  const t0 = Date.now();
  const n = await until('Hold Timer Expired', () => peer.received[0]!.find((m) => m.type === 'notification'), 8000);
  assert.equal(n.type === 'notification' && n.code, 4);
  const waited = Date.now() - t0;
  assert.ok(waited >= 2500, `hold timer fired after ${waited} ms`);
  // Keepalives went out meanwhile (every second).
  assert.ok(peer.received[0]!.filter((m) => m.type === 'keepalive').length >= 3);
  s.stop();
});

test('IPv6 prefixes go in MP_REACH_NLRI with this end of an IPv6 session as next hop', async () => {
  const peer = await scriptedPeer(wellBehaved, undefined, '::1');
  const s = startSession(peerConfig(peer.port, { peerAddress: '::1' }));
  s.setRoutes(new Map([['2001:db8:18::200/128', { communities: [], largeCommunities: [] }]]));
  const u = await until('the route', () => updates(peer.received[0]).find((x) => x.attributes.mpReach));
  assert.deepEqual(u.attributes.mpReach, { family: 'ipv6-unicast', nextHops: ['::1'], prefixes: ['2001:db8:18::200/128'] });
  assert.equal(u.attributes.nextHop, undefined);
  s.setRoutes(new Map());
  const w = await until('the withdrawal', () => updates(peer.received[0]).find((x) => (x.attributes.mpUnreach?.prefixes.length ?? 0) > 0));
  assert.deepEqual(w.attributes.mpUnreach?.prefixes, ['2001:db8:18::200/128']);
  s.stop();
});
