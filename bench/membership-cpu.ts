// What membership costs a speaker in CPU: three speakers' membership alone (no API
// server, no L2), on loopback addresses 127.0.0.1-3, for each heartbeat interval given.
// Prints millicores per speaker (utime + stime from /proc over the measured window).
//
// Run: npm run bench:membership-cpu -- [--intervals 100,50] [--seconds 60] [--nodes 3]
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuTicks } from './proc.ts';

const { values } = parseArgs({ options: { intervals: { type: 'string', default: '100,50' }, seconds: { type: 'string', default: '60' }, nodes: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);
const NODES = Number(values.nodes);
if (!(SECONDS >= 5 && SECONDS <= 600)) throw new Error('--seconds must be 5-600');
if (!(Number.isInteger(NODES) && NODES >= 2 && NODES <= 10)) throw new Error('--nodes must be 2-10');
const peerScript = fileURLToPath(new URL('../test/speaker/membership-peer.ts', import.meta.url));
const TICKS = 100; // USER_HZ on Linux

async function measure(interval: number): Promise<number> {
  const port = 29000 + interval;
  const children: ChildProcess[] = [];
  try {
    for (let i = 1; i <= NODES; i++) {
      const peers = Array.from({ length: NODES }, (_, k) => k + 1).filter((k) => k !== i).map((k) => `node-${k}=127.0.0.${k}`);
      children.push(spawn(process.execPath, [peerScript, `node-${i}`, `::ffff:127.0.0.${i}`, String(port), ...peers], { stdio: 'ignore', env: { ...process.env, ML_INTERVAL: String(interval), ML_SUSPECT_AFTER: String(interval * 3) } }));
    }
    await new Promise((r) => setTimeout(r, 5000)); // started and settled
    const before = children.map((c) => cpuTicks(c.pid!));
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const used = children.map((c, i) => cpuTicks(c.pid!) - before[i]!);
    return (used.reduce((a, b) => a + b, 0) / NODES / TICKS / SECONDS) * 1000;
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

for (const interval of values.intervals.split(',').map(Number)) {
  const mc = await measure(interval);
  console.log(`${NODES} speakers, heartbeat every ${interval} ms: ${mc.toFixed(1)} millicores each (membership alone, ${SECONDS} s; load average ${loadavg()[0]!.toFixed(1)})`);
}
