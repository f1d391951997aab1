// Runs inside the lab's client namespace (bench/l2-partitions.ts starts it): broadcasts
// "who has IP, tell <the client>" (RFC 826) on eth0 every --interval-ms, --count times,
// and prints one line per request sent ("sent MS") and per reply to it for IP ("reply MS MAC"),
// the times from one monotonic clock. The frames go through the speaker's own packet
// socket and ARP codec (src/speaker/l2), so nothing on this side answers or caches.
//
// Run: node bench/arp-who-has.ts IP --interval-ms 100 --count 600
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { PacketSocket } from '../src/speaker/l2/packet-socket.ts';
import { arpRequest, parseARP } from '../src/speaker/l2/arp.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'interval-ms': { type: 'string', default: '100' }, count: { type: 'string', default: '600' }, interface: { type: 'string', default: 'eth0' } } });
const [ip] = positionals;
const interval = Number(values['interval-ms']);
const count = Number(values.count);
if (!ip || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) throw new Error('usage: arp-who-has.ts IPv4 [--interval-ms N] [--count N]');
if (!(interval >= 10 && interval <= 10_000) || !(Number.isInteger(count) && count >= 1 && count <= 100_000)) throw new Error('--interval-ms 10-10000, --count 1-100000');
const ifname = values.interface;
const ourMAC = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
const ourIP = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(execFileSync('ip', ['-4', 'addr', 'show', 'dev', ifname], { encoding: 'utf8' }))?.[1];
if (!ourIP) throw new Error(`${ifname} has no IPv4 address`);

const out: string[] = [];
const flush = () => {
  if (out.length > 0) process.stdout.write(out.splice(0).join(''));
};
const socket = new PacketSocket(ifname, (frame) => {
  const m = parseARP(frame);
  // Answers to this client's question only: a new owner's gratuitous reply (target IP
  // its own, RFC 5227 section 3) right after the old owner's last answer is a clean
  // handover, not two nodes answering.
  if (m.type === 'arp-reply' && m.senderIP === ip && m.targetIP === ourIP) out.push(`reply ${performance.now().toFixed(3)} ${m.senderMAC}\n`);
});
const request = arpRequest({ srcMAC: ourMAC, senderIP: ourIP, targetIP: ip });
const t0 = performance.now();
let sent = 0;
// A fixed grid from t0, so a slow turn does not shift every later request.
const tick = () => {
  if (sent >= count) {
    setTimeout(() => {
      flush();
      socket.close();
    }, interval);
    return;
  }
  const at = performance.now();
  try {
    socket.send(request);
    out.push(`sent ${at.toFixed(3)}\n`);
  } catch (err) {
    out.push(`error ${at.toFixed(3)} ${(err as { code?: string }).code ?? String(err)}\n`);
  }
  sent++;
  flush();
  setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
};
tick();
