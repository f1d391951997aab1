// A speaker's membership alone, in its own process, so a test can SIGKILL it (a crash:
// no "leaving" heartbeat), SIGTERM it (a clean stop), SIGSTOP it (frozen) or SIGUSR2 it
// (its JavaScript thread busy for ML_STALL ms, default 600, then "stalled" is printed). argv: node name, bind address,
// port, then peers as NAME=ADDRESS. Prints "live A,B" whenever the live set changes.
import { Membership } from '../../src/speaker/membership/membership.ts';
import { realClock } from '../../src/time/clock.ts';

const [node, bind, port, ...peerArgs] = process.argv.slice(2);
const peers = new Map(peerArgs.map((p) => [p.split('=')[0]!, [p.split('=')[1]!]] as const));
const m = new Membership({
  node: node!,
  port: Number(port),
  bindAddress: bind!,
  clock: realClock,
  ...(process.env['ML_KEY'] ? { key: Buffer.from(process.env['ML_KEY']) } : {}),
  ...(process.env['ML_SUSPECT_AFTER'] ? { suspectAfter: Number(process.env['ML_SUSPECT_AFTER']) } : {}),
  ...(process.env['ML_INTERVAL'] ? { interval: Number(process.env['ML_INTERVAL']) } : {}),
  onChange: (live) => process.stdout.write(`live ${[...live].join(',')}\n`),
  onRejected: (from, reason) => process.stdout.write(`rejected ${from} ${reason}\n`),
});
m.setPeers(peers);
await m.start();
process.stdout.write('ready\n');
const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGUSR2', () => {
  const until = performance.now() + Number(process.env['ML_STALL'] ?? 600);
  while (performance.now() < until); // the event loop stops, as under a long plan or GC
  process.stdout.write('stalled\n');
});
process.once('SIGTERM', () => {
  m.stop();
  clearInterval(keepAlive);
  setTimeout(() => process.exit(0), 50);
});
