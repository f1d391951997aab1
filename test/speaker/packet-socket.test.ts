// The native packet socket against the real kernel: frames the kernel's own ARP and NDP
// send arrive, the kernel filter keeps other traffic out, and a frame we send is taken
// by the kernel on the other end (its neighbour table learns from it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { twoHosts, LineReader, type TwoHosts } from '../helpers/netns.ts';
import { describeLab } from '../helpers/lab.ts';

const peerScript = fileURLToPath(new URL('./packet-peer.ts', import.meta.url));
let net: TwoHosts;

// Two hosts in network namespaces: root.
describeLab('the packet socket against the kernel', () => {
  before(() => {
    net = twoHosts('pkt');
  });
  after(() => net?.destroy());

  function ethertype(hex: string): string {
    return hex.slice(24, 28);
  }

  test('receives the kernel ARP and NDP of the other host, and nothing else', async () => {
    const child = net.spawn(net.b, [process.execPath, peerScript, net.b.ifname]);
    const out = new LineReader(child);
    await out.next((l) => l === 'ready', 10_000);
    // arping: an ARP request for an address nobody holds; ndisc6: a neighbour solicitation.
    net.attempt(net.a, ['arping', '-c', '1', '-w', '1', '-I', net.a.ifname, '198.18.3.77']);
    const arp = await out.next((l) => l.startsWith('frame '), 5_000);
    const arpHex = arp.slice(6);
    assert.equal(ethertype(arpHex), '0806');
    assert.equal(arpHex.slice(12, 24), net.a.mac.replaceAll(':', ''), 'sender MAC is host a');
    assert.equal(arpHex.slice(76, 84), 'c612034d', 'target protocol address 198.18.3.77');
    net.attempt(net.a, ['ndisc6', '-1', '-r', '1', '-w', '300', '2001:db8:3::77', net.a.ifname]);
    const ns = await out.next((l) => l.startsWith('frame ') && ethertype(l.slice(6)) === '86dd', 5_000);
    assert.equal(ns.slice(6).slice(40, 42), '3a', 'next header ICMPv6');
    assert.equal(ns.slice(6).slice(108, 110), '87', 'ICMPv6 type 135');
    // Plain IPv4 and IPv6 traffic (ping) must be filtered in the kernel.
    const before = out.all().length;
    net.exec(net.a, ['ping', '-c', '3', '-i', '0.2', '-W', '1', net.b.ipv4]);
    net.exec(net.a, ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '1', net.b.ipv6]);
    await new Promise((r) => setTimeout(r, 300));
    for (const line of out.all().slice(before)) {
      if (!line.startsWith('frame ')) continue;
      const hex = line.slice(6);
      const ok = ethertype(hex) === '0806' || (ethertype(hex) === '86dd' && hex.slice(40, 42) === '3a' && ['87', '88'].includes(hex.slice(108, 110)));
      assert.ok(ok, `a frame that is neither ARP nor NS/NA passed the filter: ${hex.slice(0, 120)}`);
    }
    child.stdin.write('close\n');
    await out.next((l) => l === 'closed', 5_000);
    child.kill();
  });

  test('a frame sent is received by the other kernel (gratuitous ARP fills its neighbour table)', async () => {
    net.exec(net.a, ['sysctl', '-q', '-w', `net.ipv4.conf.${net.a.ifname}.arp_accept=1`]);
    const child = net.spawn(net.b, [process.execPath, peerScript, net.b.ifname]);
    const out = new LineReader(child);
    await out.next((l) => l === 'ready', 10_000);
    // A gratuitous ARP reply for 198.18.3.99 from b's MAC, built here by hand (RFC 826
    // field order) so this test depends on no codec.
    const mac = net.b.mac.replaceAll(':', '');
    const frame =
      'ffffffffffff' + mac + '0806' + // Ethernet: broadcast, from b, ARP
      '0001' + '0800' + '06' + '04' + '0002' + // Ethernet/IPv4, hlen 6, plen 4, reply
      mac + 'c6120363' + // sender: b's MAC, 198.18.3.99
      'ffffffffffff' + 'c6120363' + // target: 198.18.3.99 (gratuitous)
      '00'.repeat(18); // padding to 60 bytes
    child.stdin.write(`send ${frame}\n`);
    assert.equal(await out.next((l) => l === 'sent' || l.startsWith('error'), 5_000), 'sent');
    const deadline = Date.now() + 3_000;
    let neigh = '';
    while (Date.now() < deadline) {
      neigh = net.exec(net.a, ['ip', 'neigh', 'show', '198.18.3.99', 'dev', net.a.ifname]);
      if (neigh.includes(net.b.mac)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(neigh, new RegExp(net.b.mac), `host a learned 198.18.3.99 at b's MAC: ${neigh}`);
    // A frame shorter than an Ethernet header is refused with a clear error, and the
    // socket keeps working afterwards.
    child.stdin.write('send 0102\n');
    assert.equal(await out.next((l) => l.startsWith('error') || l === 'sent', 5_000), 'error EINVAL');
    child.stdin.write(`send ${frame}\n`);
    assert.equal(await out.next((l) => l === 'sent' || l.startsWith('error'), 5_000), 'sent');
    child.kill();
  });

  test('a link that goes down makes send fail with ENETDOWN, and the socket recovers when it returns', async () => {
    const child = net.spawn(net.b, [process.execPath, peerScript, net.b.ifname]);
    const out = new LineReader(child);
    await out.next((l) => l === 'ready', 10_000);
    const frame = 'ffffffffffff' + net.b.mac.replaceAll(':', '') + '0806' + '00'.repeat(46);
    net.exec(net.b, ['ip', 'link', 'set', net.b.ifname, 'down']);
    child.stdin.write(`send ${frame}\n`);
    assert.equal(await out.next((l) => l === 'sent' || l.startsWith('error'), 5_000), 'error ENETDOWN');
    net.exec(net.b, ['ip', 'link', 'set', net.b.ifname, 'up']);
    net.attempt(net.a, ['arping', '-c', '1', '-w', '2', '-I', net.a.ifname, '198.18.3.78']);
    const arp = await out.next((l) => l.startsWith('frame ') && l.includes('c612034e'), 5_000);
    assert.ok(arp);
    child.kill();
  });

  test('opening an interface that does not exist fails with ENODEV, naming it', () => {
    assert.throws(() => net.exec(net.b, [process.execPath, '-e', `import('${fileURLToPath(new URL('../../src/speaker/l2/packet-socket.ts', import.meta.url))}').then(m => { try { new m.PacketSocket('nope0', () => {}); } catch (e) { console.error(e.code + ' ' + e.message); process.exit(3); } })`]), /ENODEV nope0: No such device/);
  });

  test('frames of a VLAN on the same wire are kept out (the kernel moves the tag into metadata)', async () => {
    // This kernel has no 8021q module, so host a sends the tagged frame by hand.
    const sender = net.spawn(net.a, [process.execPath, peerScript, net.a.ifname]);
    const receiver = net.spawn(net.b, [process.execPath, peerScript, net.b.ifname]);
    const tx = new LineReader(sender);
    const rx = new LineReader(receiver);
    await tx.next((l) => l === 'ready', 10_000);
    await rx.next((l) => l === 'ready', 10_000);
    const mac = net.a.mac.replaceAll(':', '');
    const arpFor = (target: string) => '0001' + '0800' + '06' + '04' + '0001' + mac + 'c6120301' + '000000000000' + target;
    // 802.1Q tag (TPID 0x8100, VLAN 100), then an ARP request for 198.18.4.77.
    const tagged = 'ffffffffffff' + mac + '8100' + '0064' + '0806' + arpFor('c612044d') + '00'.repeat(14);
    const untagged = 'ffffffffffff' + mac + '0806' + arpFor('c612034f') + '00'.repeat(18);
    sender.stdin.write(`send ${tagged}\n`);
    sender.stdin.write(`send ${untagged}\n`);
    await rx.next((l) => l.startsWith('frame ') && l.includes('c612034f'), 5_000); // the untagged one arrives
    assert.ok(!rx.all().some((l) => l.includes('c612044d')), 'the ARP request sent on VLAN 100 (for 198.18.4.77) was filtered');
    sender.kill();
    receiver.kill();
  });
});
