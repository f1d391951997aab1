// The responder's decisions, with in-memory sockets and a manual clock: what it sends
// for which frame, on which interface, and when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../time/clock.ts';
import { silentLogger } from '../../observability/logging.ts';
import { L2Responder, type FrameSocket, type ResponderOptions } from './responder.ts';
import type { Link } from './interfaces.ts';
import { arpReply, arpRequest, gratuitousARP, neighborSolicitation, parseFrame, unsolicitedNeighborAdvertisement, type L2Message } from './frames.ts';

const ETH0: Link = { name: 'eth0', mac: '02:00:00:00:00:01', flags: 0x1003, type: 1 };
const ETH1: Link = { name: 'eth1', mac: '02:00:00:00:00:02', flags: 0x1003, type: 1 };
const VETH: Link = { name: 'veth1234', mac: '02:00:00:00:00:03', flags: 0x1003, type: 1 };
const CLIENT_MAC = '02:00:00:00:00:aa';

function setup(links: Link[] = [ETH0, ETH1, VETH], refreshInterval?: number, extra: Partial<ResponderOptions> = {}) {
  const clock = new ManualClock(1000);
  const sent: { ifname: string; msg: L2Message }[] = [];
  const deliver = new Map<string, (frame: Buffer) => void>();
  const closed: string[] = [];
  const conflicts: string[] = [];
  let currentLinks = links;
  const responder = new L2Responder({
    clock,
    log: silentLogger,
    node: 'node-1',
    gratuitous: { schedule: [0, 500, 1000] },
    probeInterval: 60_000,
    ...(refreshInterval !== undefined ? { refreshInterval } : {}),
    readLinks: () => currentLinks,
    openSocket: (ifname, onFrame): FrameSocket => {
      deliver.set(ifname, onFrame);
      return { send: (frame) => void sent.push({ ifname, msg: parseFrame(frame) }), close: () => void closed.push(ifname) };
    },
    onConflict: (ip, mac, ifname) => void conflicts.push(`${ip} ${mac} ${ifname}`),
    ...extra,
  });
  responder.start();
  const receive = (ifname: string, frame: Buffer) => deliver.get(ifname)!(frame);
  const take = () => sent.splice(0);
  return { clock, responder, sent, take, receive, closed, conflicts, setLinks: (l: Link[]) => (currentLinks = l) };
}

test('a takeover known ahead (prepare, addAnnouncements) sends what setAnnouncements does, announcements before probes, and keeps what was held', () => {
  const frames = (ips: string[], ahead: boolean) => {
    const r = setup([ETH0]);
    r.responder.setAnnouncements([{ ip: '198.18.0.1', interfaces: [] }]);
    r.take();
    const list = ips.map((ip) => ({ ip, interfaces: [] }));
    if (ahead) {
      r.responder.prepare(list);
      r.responder.addAnnouncements(list);
    } else r.responder.setAnnouncements([{ ip: '198.18.0.1', interfaces: [] }, ...list]);
    const sent = r.take().map((s) => JSON.stringify(s.msg));
    assert.deepEqual(r.responder.interfacesFor('198.18.0.1'), ['eth0'], 'the IP held before is still answered');
    return sent;
  };
  const ips = ['198.18.0.7', '2001:db8::7', '198.18.0.9'];
  const ahead = frames(ips, true);
  assert.deepEqual(ahead, frames(ips, false));
  const kinds = ahead.map((m) => (/"senderIP":"0\.0\.0\.0"|"dad":true/.test(m) ? 'probe' : 'announcement'));
  assert.deepEqual(kinds, [...Array(5).fill('announcement'), ...Array(3).fill('probe')], 'two frames per IPv4 announcement, one NA, then one probe each');
});

test('taking over an IP: gratuitous request and reply on every suitable interface at once, then on schedule', () => {
  const r = setup();
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  const first = r.take();
  const garps = first.filter((s) => s.msg.type === 'arp-request' && s.msg.gratuitous && s.msg.senderIP === '198.18.0.200');
  const replies = first.filter((s) => s.msg.type === 'arp-reply' && s.msg.senderIP === '198.18.0.200');
  assert.deepEqual(garps.map((s) => s.ifname).sort(), ['eth0', 'eth1'], 'never on the veth');
  assert.deepEqual(replies.map((s) => s.ifname).sort(), ['eth0', 'eth1']);
  const probes = first.filter((s) => s.msg.type === 'arp-request' && s.msg.senderIP === '0.0.0.0');
  assert.equal(probes.length, 2, 'one conflict probe per interface');
  r.clock.advance(499);
  assert.equal(r.take().length, 0);
  r.clock.advance(1);
  assert.equal(r.take().length, 4);
  r.clock.advance(500);
  assert.equal(r.take().length, 4);
  r.clock.advance(10_000);
  assert.equal(r.take().length, 0, 'the schedule ends');
});

test('answers ARP requests for announced IPs only, on allowed interfaces only, with that interface\'s MAC', () => {
  const r = setup();
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: ['eth1'] }]);
  r.clock.advance(5000);
  r.take();
  r.receive('eth1', arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.0.2', targetIP: '198.18.0.200' }));
  const [reply, ...more] = r.take();
  assert.equal(more.length, 0);
  assert.equal(reply?.ifname, 'eth1');
  assert.deepEqual(reply?.msg, { type: 'arp-reply', srcMAC: ETH1.mac, senderMAC: ETH1.mac, senderIP: '198.18.0.200', targetMAC: CLIENT_MAC, targetIP: '198.18.0.2' });
  r.receive('eth1', arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.0.2', targetIP: '198.18.0.201' }));
  assert.equal(r.take().length, 0, 'not announced: no answer');
  assert.equal(r.closed.length, 0);
  // eth0 is not allowed by the advertisement: no socket there at all.
  assert.throws(() => r.receive('eth0', arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.0.2', targetIP: '198.18.0.200' })));
  // An RFC 5227 probe for our address is answered too.
  r.receive('eth1', arpRequest({ srcMAC: CLIENT_MAC, senderIP: '0.0.0.0', targetIP: '198.18.0.200' }));
  assert.equal(r.take()[0]?.msg.type, 'arp-reply');
});

test('answers neighbour solicitations with a solicited NA; a DAD probe with an NA to all-nodes', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '2001:db8:18::200', interfaces: [] }]);
  const takeover = r.take();
  assert.ok(takeover.some((s) => s.msg.type === 'neighbor-advertisement' && s.msg.dstIP === 'ff02::1' && s.msg.override && !s.msg.solicited));
  assert.ok(takeover.some((s) => s.msg.type === 'neighbor-solicitation' && s.msg.dad && s.msg.targetIP === '2001:db8:18::200'), 'a DAD probe');
  r.receive('eth0', neighborSolicitation({ srcMAC: CLIENT_MAC, srcIP: '2001:db8:18::2', targetIP: '2001:db8:18::200' }));
  const [na] = r.take();
  assert.equal(na?.msg.type, 'neighbor-advertisement');
  if (na?.msg.type !== 'neighbor-advertisement') return;
  assert.equal(na.msg.dstIP, '2001:db8:18::2');
  assert.equal(na.msg.targetIP, '2001:db8:18::200');
  assert.equal(na.msg.targetLinkLayer, ETH0.mac);
  assert.ok(na.msg.solicited && na.msg.override);
  r.receive('eth0', neighborSolicitation({ srcMAC: CLIENT_MAC, srcIP: '::', targetIP: '2001:db8:18::200' }));
  const [dad] = r.take();
  assert.ok(dad?.msg.type === 'neighbor-advertisement' && dad.msg.dstIP === 'ff02::1' && !dad.msg.solicited);
});

test('another MAC still claiming an announced IP after the handover window is a conflict, reported once per 10 s', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }, { ip: '2001:db8:18::200', interfaces: [] }]);
  r.take();
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'request' }));
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'reply' }));
  r.receive('eth0', unsolicitedNeighborAdvertisement({ srcMAC: CLIENT_MAC, targetIP: '2001:db8:18::200' }));
  assert.deepEqual(r.conflicts, [], 'a first claim may be the previous owner handing over');
  r.clock.advance(3_000);
  const probes = r.take().filter((f) => (f.msg.type === 'arp-request' && f.msg.senderIP === '0.0.0.0') || (f.msg.type === 'neighbor-solicitation' && f.msg.dad));
  assert.equal(probes.length, 2, 'each suspect IP is probed again after the window');
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'reply' }));
  r.receive('eth0', unsolicitedNeighborAdvertisement({ srcMAC: CLIENT_MAC, targetIP: '2001:db8:18::200' }));
  assert.deepEqual(r.conflicts, [`198.18.0.200 ${CLIENT_MAC} eth0`, `2001:db8:18::200 ${CLIENT_MAC} eth0`]);
  r.clock.advance(10_000);
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'reply' }));
  assert.equal(r.conflicts.length, 3);
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.201', op: 'reply' }));
  assert.equal(r.conflicts.length, 3, 'an IP we do not announce is none of our business');
});

test('a claim that stops within the handover window (the previous owner letting go) is no conflict', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'reply' }));
  r.clock.advance(1_000);
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'reply' }));
  r.clock.advance(60_000); // the re-probe went unanswered; periodic probes too
  assert.deepEqual(r.conflicts, []);
  // Much later the same MAC claims it again: a new suspicion, not an instant report.
  r.receive('eth0', gratuitousARP({ srcMAC: CLIENT_MAC, ip: '198.18.0.200', op: 'reply' }));
  assert.deepEqual(r.conflicts, []);
});

test('giving an IP up stops answers and pending gratuitous frames; links that vanish are closed', () => {
  const r = setup([ETH0, ETH1]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.take();
  r.responder.setAnnouncements([]);
  assert.deepEqual(r.closed.sort(), ['eth0', 'eth1'], 'no announcement: no sockets');
  r.clock.advance(5000);
  assert.equal(r.take().length, 0, 'no gratuitous frames after giving up');
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.take();
  r.setLinks([ETH0]);
  r.clock.advance(1000); // rescan
  assert.ok(r.closed.filter((n) => n === 'eth1').length === 2, 'eth1 closed when it disappeared');
  r.setLinks([ETH0, ETH1]);
  r.clock.advance(1000);
  const again = r.take().filter((s) => s.ifname === 'eth1' && s.msg.type === 'arp-request' && s.msg.gratuitous);
  assert.ok(again.length >= 1, 'a link that comes back gets the gratuitous announcement again');
});

test('malformed frames are dropped and counted, never answered, never fatal', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.take();
  const good = arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.0.2', targetIP: '198.18.0.200' });
  // 42 bytes: Ethernet header and ARP body; beyond that only padding is cut.
  for (let n = 0; n < 42; n++) r.receive('eth0', good.subarray(0, n));
  for (let i = 0; i < 500; i++) r.receive('eth0', Buffer.from(Array.from({ length: 60 }, (_, k) => (k === 12 ? 0x08 : k === 13 ? 0x06 : (i * 31 + k * 7) & 0xff))));
  assert.equal(r.take().filter((s) => s.msg.type === 'arp-reply').length, 0);
  r.receive('eth0', good);
  assert.equal(r.take().length, 1, 'still answering');
});

test('a link that loses its carrier is given up; when the carrier returns, after the hold-off, the IP is taken over again, schedule and all', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.clock.advance(10_000);
  r.take();
  r.setLinks([{ ...ETH0, carrier: false }]);
  r.clock.advance(1000); // rescan
  assert.equal(r.take().length, 0, 'nothing sent into a dead link');
  assert.deepEqual(r.responder.interfacesFor('198.18.0.200'), []);
  r.setLinks([ETH0]);
  r.clock.advance(1000); // the rescan sees the carrier
  // Membership has not heard the peers yet: what this node holds may be a stand-in's.
  r.responder.reannounce('a peer heard during the hold-off');
  assert.equal(r.take().length, 0, 'nothing announced during the hold-off');
  assert.deepEqual(r.responder.interfacesFor('198.18.0.200'), []);
  r.clock.advance(599);
  assert.equal(r.take().length, 0);
  r.clock.advance(1);
  const back = r.take();
  assert.equal(back.filter((s) => s.msg.type === 'arp-request' && s.msg.gratuitous && s.msg.senderIP === '198.18.0.200').length, 1, 'announced at once on return');
  assert.equal(back.filter((s) => s.msg.type === 'arp-request' && s.msg.senderIP === '0.0.0.0').length, 1, 'and probed');
  r.clock.advance(500);
  assert.equal(r.take().length, 2, 'the repeats follow');
});

test('a link whose carrier returns asks the peers\' addresses at once (neighbourFrames), before the hold-off, through a socket closed after', () => {
  const asked: string[] = [];
  const r = setup([ETH0], undefined, {
    neighbourFrames: (link) => {
      asked.push(link.name);
      return [arpRequest({ srcMAC: link.mac, senderIP: '198.18.0.13', targetIP: '198.18.0.11' })];
    },
  });
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.clock.advance(10_000);
  r.take();
  r.setLinks([{ ...ETH0, carrier: false }]);
  r.clock.advance(1000);
  assert.deepEqual(asked, [], 'not on losing the carrier');
  const closedBefore = r.closed.length;
  r.setLinks([ETH0]);
  r.clock.advance(1000); // the rescan sees the carrier
  assert.deepEqual(asked, ['eth0']);
  const sent = r.take();
  assert.deepEqual(sent.map((x) => (x.msg.type === 'arp-request' ? `${x.ifname} ${x.msg.senderIP} asks ${x.msg.targetIP}` : x.msg.type)), ['eth0 198.18.0.13 asks 198.18.0.11']);
  assert.equal(r.closed.length, closedBefore + 1, 'its socket closed again');
  r.clock.advance(600);
  assert.ok(r.take().some((x) => x.msg.type === 'arp-request' && x.msg.gratuitous), 'announced after the hold-off as before');
  assert.deepEqual(asked, ['eth0'], 'asked once per return');
});

test('a returning link is answered as soon as membership says every peer hears this node again (heardBack), before the hold-off', () => {
  let heardSince: number | undefined; // the peers' word: they hear this node since then
  const asked: number[] = [];
  const r = setup([ETH0], undefined, {
    heardBack: (since) => {
      asked.push(since);
      return heardSince !== undefined && heardSince >= since;
    },
  });
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.clock.advance(10_000);
  r.take();
  r.setLinks([{ ...ETH0, carrier: false }]);
  r.clock.advance(1000);
  heardSince = r.clock.now(); // heard while the link was down: evidence from before the return
  r.responder.peersHeard();
  r.setLinks([ETH0]);
  r.clock.advance(1000); // the rescan sees the carrier
  const returnedAt = r.clock.now();
  r.responder.peersHeard();
  assert.equal(r.take().length, 0, 'held: nothing heard since the return');
  assert.deepEqual(r.responder.interfacesFor('198.18.0.200'), []);
  r.clock.advance(30);
  heardSince = r.clock.now(); // a heartbeat that reports this node, 30 ms after the return
  r.responder.peersHeard();
  assert.deepEqual(r.responder.interfacesFor('198.18.0.200'), ['eth0'], 'answered 30 ms after the return, not 600');
  const back = r.take();
  assert.equal(back.filter((s) => s.msg.type === 'arp-request' && s.msg.gratuitous && s.msg.senderIP === '198.18.0.200').length, 1, 'announced at once');
  assert.ok(asked.includes(returnedAt), 'asked about the time of the return');
  const n = asked.length;
  r.responder.peersHeard();
  assert.equal(asked.length, n, 'nothing held: not asked again');
});

test('a returning link whose peers are not all heard again waits for the hold-off, as without heardBack', () => {
  const r = setup([ETH0], undefined, { heardBack: () => false });
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.clock.advance(10_000);
  r.take();
  r.setLinks([{ ...ETH0, carrier: false }]);
  r.clock.advance(1000);
  r.setLinks([ETH0]);
  r.clock.advance(1000);
  r.responder.peersHeard();
  r.clock.advance(599);
  assert.deepEqual(r.responder.interfacesFor('198.18.0.200'), []);
  r.clock.advance(1);
  assert.deepEqual(r.responder.interfacesFor('198.18.0.200'), ['eth0']);
});

test('reannounce(): every held IP is announced again with the whole schedule and probed; nothing when nothing is held', () => {
  const r = setup([ETH0]);
  r.responder.reannounce('test');
  assert.equal(r.take().length, 0);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }, { ip: '2001:db8:18::200', interfaces: [] }]);
  r.clock.advance(10_000);
  r.take();
  r.responder.reannounce('node-3 reachable again');
  const now = r.take();
  assert.equal(now.filter((s) => s.msg.type === 'arp-request' && s.msg.gratuitous && s.msg.senderIP === '198.18.0.200').length, 1);
  assert.equal(now.filter((s) => s.msg.type === 'arp-reply' && s.msg.targetMAC === ETH0.mac).length, 1, 'the RFC 2002 form too');
  assert.equal(now.filter((s) => s.msg.type === 'neighbor-advertisement' && s.msg.override).length, 1);
  assert.equal(now.filter((s) => (s.msg.type === 'arp-request' && s.msg.senderIP === '0.0.0.0') || (s.msg.type === 'neighbor-solicitation' && s.msg.dad)).length, 2);
  r.clock.advance(500);
  assert.equal(r.take().length, 3);
  r.clock.advance(500);
  assert.equal(r.take().length, 3);
  r.clock.advance(10_000);
  assert.equal(r.take().length, 0);
});

test('a claim seen during a handover: after the window the owner probes and announces again, to have the last word', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  r.take();
  // The previous owner answers our takeover probe: it has not let go yet.
  r.receive('eth0', arpReplyFrom('02:00:00:00:00:09', '198.18.0.200'));
  r.clock.advance(2_999);
  r.take();
  r.clock.advance(1);
  const at3s = r.take();
  assert.equal(at3s.filter((s) => s.msg.type === 'arp-request' && s.msg.gratuitous && s.msg.senderIP === '198.18.0.200').length, 1);
  r.clock.advance(1000);
  assert.equal(r.take().length, 4, 'repeats at +0.5 s and +1 s after the re-announcement');
  assert.deepEqual(r.conflicts, []);
});

function arpReplyFrom(mac: string, ip: string): Buffer {
  return arpReply({ srcMAC: mac, ip, toMAC: ETH0.mac, toIP: '0.0.0.0' });
}

test('periodic re-announcement: with refreshInterval, every IP held is announced once more each period; without it, never', () => {
  const r = setup([ETH0], 30_000);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }, { ip: '2001:db8:18::200', interfaces: [] }]);
  r.clock.advance(5000);
  r.take(); // the takeover's schedule
  r.clock.advance(24_999);
  assert.equal(r.take().filter((s) => s.msg.type !== 'neighbor-solicitation' && !(s.msg.type === 'arp-request' && s.msg.senderIP === '0.0.0.0')).length, 0);
  r.clock.advance(1);
  const refresh = r.take();
  assert.deepEqual(refresh.map((s) => `${s.msg.type}${s.msg.type === 'arp-request' ? (s.msg.gratuitous ? ' gratuitous' : '') : ''}`).sort(), ['arp-reply', 'arp-request gratuitous', 'neighbor-advertisement']);
  r.clock.advance(30_000);
  assert.equal(r.take().filter((s) => s.msg.type === 'neighbor-advertisement').length, 1, 'again a period later');
  r.responder.stop();

  const off = setup([ETH0]);
  off.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }]);
  off.clock.advance(5000);
  off.take();
  off.clock.advance(120_000);
  // Conflict probes (sender 0.0.0.0) go on; announcements do not.
  assert.deepEqual(off.take().filter((s) => s.msg.type === 'arp-reply' || (s.msg.type === 'arp-request' && s.msg.senderIP === '198.18.0.200')), []);
  off.responder.stop();
});


test('handing off (quiesce): no more announcements, questions still answered, probes not, until stop', () => {
  const r = setup([ETH0]);
  r.responder.setAnnouncements([{ ip: '198.18.0.200', interfaces: [] }, { ip: '2001:db8:18::200', interfaces: [] }]);
  r.clock.advance(100);
  r.take();
  r.responder.quiesce();
  r.clock.advance(5000);
  assert.deepEqual(r.take(), [], 'the rest of the takeover schedule is not sent');
  r.receive('eth0', arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.0.2', targetIP: '198.18.0.200' }));
  assert.equal(r.take()[0]?.msg.type, 'arp-reply', 'a client asking still gets an answer');
  r.receive('eth0', neighborSolicitation({ srcMAC: CLIENT_MAC, srcIP: '2001:db8:18::2', targetIP: '2001:db8:18::200' }));
  assert.equal(r.take()[0]?.msg.type, 'neighbor-advertisement');
  r.receive('eth0', arpRequest({ srcMAC: '02:00:00:00:00:09', senderIP: '0.0.0.0', targetIP: '198.18.0.200' }));
  r.receive('eth0', neighborSolicitation({ srcMAC: '02:00:00:00:00:09', srcIP: '::', targetIP: '2001:db8:18::200' }));
  assert.deepEqual(r.take(), [], "the new owner's probes are not answered: that would be a claim");
  r.responder.reannounce('a peer is back');
  r.clock.advance(1000);
  assert.deepEqual(r.take(), [], 'nothing is announced or probed again while handing off');
  r.responder.stop();
  r.receive('eth0', arpRequest({ srcMAC: CLIENT_MAC, senderIP: '198.18.0.2', targetIP: '198.18.0.200' }));
  assert.deepEqual(r.take(), []);
});
