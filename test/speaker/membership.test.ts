// Membership over real UDP on loopback (127.0.0.1/.2/.3 as three nodes): who is live,
// how fast a crash and a clean stop are noticed, and what forged or foreign heartbeats do.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSocket } from 'node:dgram';
import { LineReader } from '../helpers/netns.ts';
import { encodeHeartbeat } from '../../src/speaker/membership/heartbeat.ts';
import { DEFAULT_INTERVAL, DEFAULT_SUSPECT_AFTER } from '../../src/speaker/membership/membership.ts';
import { RUNWAY_MS } from '../../src/speaker/membership/runway.ts';

const script = fileURLToPath(new URL('./membership-peer.ts', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

let nextPort = 27946;
function peer(node: string, index: number, port: number, env: Record<string, string> = {}) {
  const peers = [1, 2, 3].filter((i) => i !== index).map((i) => `node-${i}=127.0.0.${i}`);
  const child = spawn(process.execPath, [script, node, `::ffff:127.0.0.${index}`, String(port), ...peers], { stdio: 'pipe', env: { ...process.env, ...env } });
  children.push(child);
  return { child, out: new LineReader(child) };
}

async function threeNodes(env: Record<string, string> = {}) {
  const port = nextPort++;
  const nodes = [1, 2, 3].map((i) => peer(`node-${i}`, i, port, env));
  for (const n of nodes) await n.out.next((l) => l === 'ready', 10_000);
  for (const n of nodes) await n.out.next((l) => l === 'live node-1,node-2,node-3', 3_000);
  for (const n of nodes) n.out.clear();
  return { port, nodes };
}

test(`three speakers see each other; a crashed one is dead to the others after about ${DEFAULT_SUSPECT_AFTER} ms`, async () => {
  const { nodes } = await threeNodes();
  const [n1, n2, n3] = nodes as [ReturnType<typeof peer>, ReturnType<typeof peer>, ReturnType<typeof peer>];
  const t0 = performance.now();
  n3.child.kill('SIGKILL');
  await n1.out.next((l) => l === 'live node-1,node-2', 2_000);
  const detected = performance.now() - t0;
  await n2.out.next((l) => l === 'live node-1,node-2', 2_000);
  // suspectAfter + up to half an interval of checking + process scheduling; the upper
  // bound is loose (a loaded CI machine), bench/failover.ts measures the figure. Each
  // peer also hears the other's reports, so both must lose the crashed one.
  assert.ok(detected < 1500, `crash detected after ${detected.toFixed(0)} ms`);
  const earliest = DEFAULT_SUSPECT_AFTER - DEFAULT_INTERVAL;
  assert.ok(detected >= earliest, `crash "detected" after only ${detected.toFixed(0)} ms, before ${earliest} ms: too eager, one lost datagram would fail over`);
  n1.child.kill('SIGKILL');
  n2.child.kill('SIGKILL');
});

test(`a speaker whose JavaScript thread stalls for 600 ms stays live (the runway, ${RUNWAY_MS} ms); a frozen one is dead at once`, async () => {
  const { nodes } = await threeNodes();
  const [n1, n2, n3] = nodes as [ReturnType<typeof peer>, ReturnType<typeof peer>, ReturnType<typeof peer>];
  // Three stalls in a row, each four times the detection period: the heartbeats
  // loaded ahead keep going out from the native thread.
  for (let i = 0; i < 3; i++) {
    n3.child.kill('SIGUSR2');
    await n3.out.next((l) => l === 'stalled', 5_000);
    await new Promise((r) => setTimeout(r, 300)); // a refresh of the runway in between
  }
  for (const n of [n1, n2]) assert.ok(!n.out.all().some((l) => l.startsWith('live ')), `the stalled speaker was taken for dead: ${n.out.all().join(' | ')}`);
  // SIGSTOP stops every thread, the sender's too: the same detection as a crash.
  const t0 = performance.now();
  n3.child.kill('SIGSTOP');
  await n1.out.next((l) => l === 'live node-1,node-2', 2_000);
  const detected = performance.now() - t0;
  assert.ok(detected < 1500, `freeze detected after ${detected.toFixed(0)} ms`);
  n3.child.kill('SIGCONT');
  await n1.out.next((l) => l === 'live node-1,node-2,node-3', 3_000);
  for (const n of nodes) n.child.kill('SIGKILL');
});

test('a speaker that stops cleanly is dead to the others at once (leaving heartbeat)', async () => {
  // A long suspectAfter, so the goodbye is told apart from a silent death.
  const { nodes } = await threeNodes({ ML_SUSPECT_AFTER: '2000' });
  const [n1, n2] = nodes as [ReturnType<typeof peer>, ReturnType<typeof peer>];
  const t0 = performance.now();
  n2.child.kill('SIGTERM');
  await n1.out.next((l) => l === 'live node-1,node-3', 2_000);
  const detected = performance.now() - t0;
  // Well below the 1,950 ms a silent death needs at the earliest: the goodbye was heard.
  assert.ok(detected < 1000, `clean stop noticed after ${detected.toFixed(0)} ms`);
  for (const n of nodes) n.child.kill('SIGKILL');
});

test('forged, foreign and garbage datagrams are rejected with a reason and change nothing', async () => {
  const { port, nodes } = await threeNodes();
  const [n1] = nodes as [ReturnType<typeof peer>];
  const forger = createSocket('udp4');
  await new Promise<void>((r) => forger.bind(0, '127.0.0.9', r));
  const send = (b: Buffer) => new Promise<void>((r) => forger.send(b, port, '127.0.0.1', () => r()));
  await send(encodeHeartbeat({ type: 'leaving', node: 'node-2', incarnation: 2n ** 62n, sequence: 1 }));
  assert.match(await n1.out.next((l) => l.startsWith('rejected'), 2_000), /^rejected 127\.0\.0\.9 heartbeat for node "node-2" from 127\.0\.0\.9, which is not one of its addresses/);
  await send(encodeHeartbeat({ type: 'alive', node: 'node-7', incarnation: 1n, sequence: 1 }));
  assert.match(await n1.out.next((l) => l.startsWith('rejected'), 2_000), /unknown node "node-7"/);
  await send(Buffer.from('\x00\x01garbage that is long enough to be read'));
  assert.match(await n1.out.next((l) => l.startsWith('rejected'), 2_000), /bad magic/);
  forger.close();
  await new Promise((r) => setTimeout(r, 700));
  assert.ok(!n1.out.all().some((l) => l.startsWith('live ') && l !== 'live node-1,node-2,node-3'), `live set changed: ${n1.out.all().join(' | ')}`);
  for (const n of nodes) n.child.kill('SIGKILL');
});

test('with a shared key, a speaker without it is not a member', async () => {
  const port = nextPort++;
  const n1 = peer('node-1', 1, port, { ML_KEY: 'secret' });
  const n2 = peer('node-2', 2, port, { ML_KEY: 'secret' });
  const n3 = peer('node-3', 3, port, { ML_KEY: 'another' });
  for (const n of [n1, n2, n3]) await n.out.next((l) => l === 'ready', 10_000);
  await n1.out.next((l) => l === 'live node-1,node-2', 3_000);
  assert.match(await n1.out.next((l) => l.startsWith('rejected 127.0.0.3'), 2_000), /bad authentication/);
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(!n1.out.all().some((l) => l.includes('node-3') && l.startsWith('live')), 'node-3 never became live');
  for (const n of [n1, n2, n3]) n.child.kill('SIGKILL');
});
