// A BGP session against scripted peers over real TCP on loopback: what ferrolb sends to
// a well-behaved peer, and how it treats a hostile or misconfigured one (the right
// NOTIFICATION, a retry, and the process keeps running).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger } from '../../src/observability/logging.ts';
import { realClock } from '../../src/time/clock.ts';
import { BGPSession, type SessionState } from '../../src/speaker/bgp/session.ts';
import { BGPSessions } from '../../src/speaker/bgp/sessions.ts';
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
  const s = new BGPSession({ peer, routerID: '198.18.0.11', clock: realClock, log: silentLogger, minRetry: 0.2, onStateChange: (st) => states.push(st) });
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

test('eBGP without ebgpMultiHop to a peer on none of the node\'s subnets: the session fails before connecting, saying so; with ebgpMultiHop it connects', async () => {
  const failures: string[] = [];
  const far = new BGPSession({
    // 198.18.254.1: in the test range, on no interface of this host (no lab here).
    peer: peerConfig(179, { peerAddress: '198.18.254.1' }), routerID: '198.18.0.11', clock: realClock, log: silentLogger, minRetry: 0.2,
    onFailure: (e) => failures.push(`${e.code} ${e.message}`),
  });
  sessions.push(far);
  far.start();
  const failure = await until('a failure', () => failures[0]);
  assert.match(failure, /^EBGPCONNECTION .*198\.18\.254\.1 is on none of this node's subnets.*ebgpMultiHop: true/);
  far.stop();
  // The same check does not apply to a multi-hop peer: a scripted one on loopback is
  // reached (loopback is one of the node's subnets, so this shows the TTL-255 path works).
  const peer = await scriptedPeer(wellBehaved);
  const s = startSession(peerConfig(peer.port, { ebgpMultiHop: true }));
  await until('established', () => (s.state === 'established' ? true : undefined));
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

test('BGPPeer routerID is the BGP identifier in the OPEN; without it the node address is', async () => {
  const withID = await scriptedPeer(answering(64512));
  const plain = await scriptedPeer(answering(64512));
  const bgp = await announcing([
    { peer: withID, config: { ...peerConfig(withID.port), name: 'with-id', routerID: '198.18.0.99' } },
    { peer: plain, config: { ...peerConfig(plain.port), name: 'plain' } },
  ]);
  const openOf = (p: Peer) => p.received[0]!.find((m) => m.type === 'open');
  assert.equal(openOf(withID)?.type === 'open' && openOf(withID)!.routerID, '198.18.0.99');
  assert.equal(openOf(plain)?.type === 'open' && openOf(plain)!.routerID, '198.18.0.11');
  await bgp.shutdown({ nodeDraining: false, drainMs: 0 });
});

/** A peer that answers our OPEN with AS `as`, graceful restart when asked (RFC 4724). */
function answering(as: number, gracefulRestart = false) {
  return (msg: BGPMessage, socket: Socket): void => {
    if (msg.type !== 'open') return;
    socket.write(encode({
      type: 'open', version: 4, myAS: as, holdTime: 90, routerID: '198.18.0.1',
      capabilities: {
        multiprotocol: ['ipv4-unicast', 'ipv6-unicast'], fourOctetAS: as, routeRefresh: true, unknown: [],
        ...(gracefulRestart ? { gracefulRestart: { restartTime: 120, restarting: false, families: ['ipv4-unicast', 'ipv6-unicast'] as const, forwardingPreserved: false } } : {}),
      },
    }));
    socket.write(encode({ type: 'keepalive' }));
  };
}

const WEB_ROUTE = { localPref: 150, communities: [64512 * 65536 + 100], largeCommunities: [] };

/** BGPSessions with one session per peer, each announcing 198.18.1.30/32; resolves once every peer has the route. */
async function announcing(peers: { peer: Peer; config: BGPPeer }[]): Promise<BGPSessions> {
  const bgp = new BGPSessions(realClock, silentLogger);
  bgp.apply(peers.map(({ config }) => ({ peer: config, routes: new Map([['198.18.1.30/32', WEB_ROUTE]]), services: new Map() })), '198.18.0.11');
  for (const { peer } of peers) await until('the route', () => updates(peer.received[0]).find((u) => u.nlri.length > 0));
  return bgp;
}

const marked = (log: BGPMessage[] | undefined) => updates(log).findIndex((u) => u.nlri.length > 0 && (u.attributes.communities ?? []).includes(0xffff0000));
const ceaseAt = (log: BGPMessage[] | undefined) => (log ?? []).findIndex((m) => m.type === 'notification' && m.code === 6 && m.subcode === 2);

test('graceful shutdown (RFC 8326): a stopping speaker announces its routes again with GRACEFUL_SHUTDOWN and, to iBGP, LOCAL_PREF 0; Cease only after the drain time', async () => {
  const ibgp = await scriptedPeer(answering(64513));
  const ebgp = await scriptedPeer(answering(64512));
  const bgp = await announcing([
    { peer: ibgp, config: { ...peerConfig(ibgp.port, { peerASN: 64513 }), name: 'ibgp' } },
    { peer: ebgp, config: { ...peerConfig(ebgp.port), name: 'ebgp' } },
  ]);
  const t0 = Date.now();
  const closed = bgp.shutdown({ nodeDraining: false, drainMs: 500 });
  const again = await until('the marked route (iBGP)', () => updates(ibgp.received[0]).find((u) => (u.attributes.communities ?? []).includes(0xffff0000)));
  assert.deepEqual(again.nlri, ['198.18.1.30/32']);
  assert.equal(again.attributes.localPref, 0);
  assert.deepEqual(again.attributes.communities, [64512 * 65536 + 100, 0xffff0000], 'its own communities kept');
  const e = await until('the marked route (eBGP)', () => updates(ebgp.received[0]).find((u) => (u.attributes.communities ?? []).includes(0xffff0000)));
  assert.equal(e.attributes.localPref, undefined, 'no LOCAL_PREF over eBGP');
  assert.equal(ceaseAt(ibgp.received[0]), -1, 'no Cease during the drain');
  await closed;
  assert.ok(Date.now() - t0 >= 490, `closed after ${Date.now() - t0} ms`);
  for (const p of [ibgp, ebgp]) {
    await until('a Cease', () => (ceaseAt(p.received[0]) >= 0 ? true : undefined));
    assert.ok(p.received[0]!.indexOf(updates(p.received[0])[marked(p.received[0])]!) < ceaseAt(p.received[0]), 'the marked route before the Cease');
    assert.equal(updates(p.received[0]).filter((u) => u.withdrawn.length > 0).length, 0, 'no withdrawal before the Cease: the routes stay usable till the end');
  }
});

test('graceful shutdown and graceful restart: a SIGTERM with graceful restart is a restart (routes kept, no Cease), unless the node is drained', async () => {
  const restart = await scriptedPeer(answering(64512, true));
  const r = await announcing([{ peer: restart, config: peerConfig(restart.port, { enableGracefulRestart: true }) }]);
  await r.shutdown({ nodeDraining: false, drainMs: 300 });
  await until('the connection closed', () => (restart.sockets[0]!.readableEnded || restart.sockets[0]!.destroyed ? true : undefined));
  assert.equal(marked(restart.received[0]), -1, 'not marked: the peer keeps the routes as they are');
  assert.equal(restart.received[0]!.some((m) => m.type === 'notification'), false, 'no NOTIFICATION (RFC 4724 4.2)');

  const drained = await scriptedPeer(answering(64512, true));
  const d = await announcing([{ peer: drained, config: peerConfig(drained.port, { enableGracefulRestart: true }) }]);
  await d.shutdown({ nodeDraining: true, drainMs: 300 });
  await until('a Cease', () => (ceaseAt(drained.received[0]) >= 0 ? true : undefined));
  assert.ok(marked(drained.received[0]) >= 0, 'drained node: routes marked first');
});
