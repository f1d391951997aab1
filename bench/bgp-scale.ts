// BGP at scale (issue 12 item 5): N host routes (10,000 by default) announced from each
// of 3 nodes to the lab router, which ends up with 3 x N paths; then all withdrawn. Once
// with ferrolb's session code as the sender on each node (bench/bgp-announcer.ts: the
// speaker's BGPSession, native connect, encoder and Adj-RIB-Out, without Kubernetes: the
// speaker's plan at 10,000 services is bench:l2-plan's and bench:speaker-plan's), once
// with GoBGP as the sender (a gobgpd per node namespace, the routes put in its RIB by
// its own CLI, `gobgp mrt inject global`, from an MRT file of the same routes, while its
// session is administratively down; the timed command enables it). The
// ferrolb sender runs from the TypeScript sources with the speaker's V8 flags. Prints,
// per router and sender: the time from the command (announce / inject) until the
// router's RIB holds every path, the time until it holds none after the withdrawal, and
// each sender's CPU time and peak RSS over the run.
//
// Run as root: npm run bench:bgp-scale -- [--routers bird,frr,gobgp] [--routes 10000]
// It brings a 3-node lab up per router (no Kubernetes objects are made) and down at the
// end, and waits for the lab lock.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labOk, sleep, holdLabForRun, repoDir } from '../test/helpers/lab.ts';
import { waitFor } from '../lab/src/run.ts';
import { nodeHost, router } from '../lab/src/layout.ts';
import { nodeASN, routerASN, routerControl, routerKinds, type RouterControl, type RouterKind } from '../lab/src/router.ts';
import { cpuTicks } from './proc.ts';
import { scaleRoutes, scaleRoutesMRT } from './bgp-scale-routes.ts';

const { values } = parseArgs({ options: { routers: { type: 'string', default: 'bird,frr,gobgp' }, routes: { type: 'string', default: '10000' } } });
const ROUTERS = values.routers.split(',') as RouterKind[];
for (const r of ROUTERS) if (!routerKinds.includes(r)) throw new Error(`--routers: unknown router "${r}" (${routerKinds.join(', ')})`);
const ROUTES = Number(values.routes);
if (!(ROUTES >= 1 && ROUTES <= 65536)) throw new Error('--routes 1-65536');
const NODES = [1, 2, 3].map(nodeHost);
const ALL = NODES.length * ROUTES;
/** The speaker's V8 flags (bin/ferrolb.js), so the sender's CPU and memory are the speaker's kind. */
const SPEAKER_V8_FLAGS = ['--max-semi-space-size=2', '--no-opt', '--no-maglev', '--optimize-for-size'];
/** Upper bound for one phase: a router that never gets there ends the run with an error, not a hang. */
const PHASE_MS = 300_000;

interface Sender {
  readonly pid: number;
  readonly child: ChildProcess;
}

interface Figures {
  /** From the timed command until the router shows all three sessions Established (0: they were before it). */
  establishedMs: number;
  announceMs: number;
  withdrawMs: number;
  cpuMs: number[];
  peakMB: number[];
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Polls the router's IPv4 path count every 50 ms until `done` holds; the time it took
 * from `t0`. Ends with the sender's error if its command failed meanwhile.
 */
async function until(R: RouterControl, what: string, t0: number, done: (n: number) => boolean, failed: () => unknown, each: () => void = () => {}): Promise<number> {
  while (performance.now() - t0 < PHASE_MS) {
    const err = failed();
    if (err !== undefined) throw err;
    each();
    const n = R.ipv4PathCount();
    if (n !== undefined && done(n)) return performance.now() - t0;
    await sleep(50);
  }
  throw new Error(`timed out after ${PHASE_MS / 1000} s waiting for ${what} (the router holds ${R.ipv4PathCount()})`);
}

async function established(R: RouterControl): Promise<void> {
  await waitFor('three Established sessions at the router', 60_000, () => (allEstablished(R) ? true : undefined), 200);
}

/** The sender's command for a phase; a rejection (a CLI that failed) ends the wait at once. */
type Command = () => Promise<unknown> | void;

async function phase(R: RouterControl, what: string, command: Command, done: (n: number) => boolean, each?: (t0: number) => void): Promise<number> {
  const t0 = performance.now();
  let failure: unknown;
  Promise.resolve(command()).catch((err: unknown) => (failure = err));
  return until(R, what, t0, done, () => failure, each && (() => each(t0)));
}

const allEstablished = (R: RouterControl) => NODES.every((n) => R.sessions().get(n.v4) === true);

/**
 * One run: `before` (untimed: sessions up, or a RIB preloaded), then the timed announce
 * and withdrawal, with the senders' CPU time over the two.
 */
async function measure(R: RouterControl, senders: readonly Sender[], before: () => Promise<unknown>, announce: Command, withdraw: Command): Promise<Figures> {
  await before();
  const ticks0 = senders.map((s) => cpuTicks(s.pid));
  let establishedMs = allEstablished(R) ? 0 : NaN;
  const watch = (t0: number) => {
    if (Number.isNaN(establishedMs) && allEstablished(R)) establishedMs = performance.now() - t0;
  };
  const announceMs = await phase(R, `${ALL} paths at the router`, announce, (n) => n >= ALL, watch);
  const withdrawMs = await phase(R, 'no path at the router', withdraw, (n) => n === 0);
  return {
    establishedMs,
    announceMs,
    withdrawMs,
    cpuMs: senders.map((s, i) => (cpuTicks(s.pid) - ticks0[i]!) * 10),
    peakMB: senders.map((s) => vmHWM(s.pid)),
  };
}

function stopAll(senders: readonly Sender[]): void {
  for (const s of senders) if (s.child.exitCode === null) s.child.kill('SIGKILL');
}

/**
 * ferrolb as the sender. `opening`: each session opens with the routes already in its
 * Adj-RIB-Out (the timed command starts the sessions, as GoBGP's `neighbor enable`);
 * `live`: the routes are given to sessions already Established, as the speaker does when
 * services appear.
 */
async function ferrolbRun(R: RouterControl, mode: 'opening' | 'live'): Promise<Figures> {
  const node = process.execPath;
  const senders = NODES.map((n) => {
    const child = spawn('ip', ['netns', 'exec', n.netns, node, ...SPEAKER_V8_FLAGS, join(repoDir, 'bench', 'bgp-announcer.ts'), n.v4, String(ROUTES)], { stdio: ['pipe', 'pipe', 'inherit'] });
    // The first line says the sources are loaded; the rest are state lines (the router is the judge).
    const ready = new Promise<void>((resolve) => createInterface({ input: child.stdout! }).on('line', (l) => l.includes('"ready"') && resolve()));
    return { pid: child.pid!, child, ready };
  });
  await Promise.all(senders.map((s) => s.ready));
  const tell = (command: string) => senders.forEach((s) => s.child.stdin!.write(`${command}\n`));
  try {
    if (mode === 'opening') return await measure(R, senders, async () => {}, () => tell('announce\nstart'), () => tell('withdraw'));
    return await measure(R, senders, () => (tell('start'), established(R)), () => tell('announce'), () => tell('withdraw'));
  } finally {
    tell('stop');
    await sleep(500);
    stopAll(senders);
  }
}

function gobgpConfig(nodeIP: string): string {
  return `[global.config]
  as = ${nodeASN}
  router-id = "${nodeIP}"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${router.v4}"
    peer-as = ${routerASN}
    admin-down = true
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`;
}

async function gobgpRun(R: RouterControl, dir: string): Promise<Figures> {
  const senders = NODES.map((n) => {
    const config = join(dir, `gobgpd-${n.name}.toml`);
    writeFileSync(config, gobgpConfig(n.v4));
    const child = spawn('ip', ['netns', 'exec', n.netns, '/usr/bin/gobgpd', '-f', config, '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--log-level', 'warn', '--log-plain', '--pprof-disable'], { stdio: ['ignore', 'ignore', 'inherit'] });
    return { pid: child.pid!, child };
  });
  const cli = (n: (typeof NODES)[number], args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const c = spawn('ip', ['netns', 'exec', n.netns, '/usr/bin/gobgp', '--host', '127.0.0.1', '--port', '50051', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gobgp ${args.join(' ')} in ${n.name}: exit ${code}`))));
    });
  try {
    const mrt = NODES.map((n) => {
      const file = join(dir, `routes-${n.name}.mrt`);
      writeFileSync(file, scaleRoutesMRT(ROUTES, { id: n.v4, address: n.v4, asn: nodeASN }, n.v4));
      return file;
    });
    // The routes go into gobgpd's RIB before its session to the router is enabled, so the
    // timed part is GoBGP sending a full table, not its CLI. GoBGP 3.10's `mrt inject` returns before gobgpd has taken the whole stream, and
    // what it loses is the stream's tail: one call left 327-752 of 1,000 routes in its RIB
    // (tried by hand; with -d, slower, 999), and calls repeated (the same paths again,
    // idempotent) stop short of the last few. So each node injects the file up to three
    // times, then adds what is still missing one route at a time (`gobgp global rib add`).
    const gobgpArgs = (n: (typeof NODES)[number], args: string[]) => ['netns', 'exec', n.netns, '/usr/bin/gobgp', '--host', '127.0.0.1', '--port', '50051', ...args];
    const held = (n: (typeof NODES)[number]) => {
      const r = spawnSync('ip', gobgpArgs(n, ['global', 'rib', '-a', 'ipv4', '-j']), { encoding: 'utf8', timeout: 30_000, maxBuffer: 256 << 20 });
      return new Set(Object.keys(JSON.parse(r.stdout || '{}') as Record<string, unknown>));
    };
    const all = scaleRoutes(ROUTES);
    const inject = async (n: (typeof NODES)[number], file: string) => {
      for (let i = 0; i < 3; i++) {
        await cli(n, ['mrt', 'inject', 'global', file]);
        if (held(n).size >= ROUTES) return;
      }
      const have = held(n);
      for (const prefix of all) if (!have.has(prefix)) await cli(n, ['global', 'rib', '-a', 'ipv4', 'add', prefix, 'nexthop', n.v4]);
    };
    return await measure(
      R,
      senders,
      // Untimed: the RIB filled while the session is administratively down; timed: the
      // session's start, so GoBGP sends its table as it opens.
      async () => {
        await sleep(1000); // gobgpd's API up
        await Promise.all(NODES.map((n, i) => inject(n, mrt[i]!)));
        const short = NODES.filter((n) => held(n).size < ROUTES).map((n) => n.name);
        if (short.length > 0) throw new Error(`GoBGP's RIB is short of ${ROUTES} routes on ${short.join(', ')}`);
      },
      () => Promise.all(NODES.map((n) => cli(n, ['neighbor', router.v4, 'enable']))),
      () => Promise.all(NODES.map((n) => cli(n, ['global', 'rib', '-a', 'ipv4', 'del', 'all']))),
    );
  } finally {
    stopAll(senders);
  }
}

const line = (kind: string, sender: string, f: Figures) =>
  `| ${kind} | ${sender} | ${Number.isNaN(f.establishedMs) ? '-' : `${(f.establishedMs / 1000).toFixed(2)} s`} | ${(f.announceMs / 1000).toFixed(2)} s | ${(f.withdrawMs / 1000).toFixed(2)} s | ${f.cpuMs.map((c) => (c / 1000).toFixed(2)).join(' / ')} s | ${f.peakMB.map((m) => m.toFixed(1)).join(' / ')} MB |`;

const teardown = holdLabForRun();
const dir = mkdtempSync(join(tmpdir(), 'flb-bgp-scale-'));
const rows: string[] = [];
try {
  for (const kind of ROUTERS) {
    const R = routerControl(kind);
    labOk(['down'], 60_000);
    labOk(['up', '--nodes', '3', '--router', kind, '--real-nodes', '0'], 180_000);
    const runs = [
      ['ferrolb, session opens with the routes', () => ferrolbRun(R, 'opening')],
      ['GoBGP, session opens with the routes', () => gobgpRun(R, dir)],
      ['ferrolb, routes on an Established session', () => ferrolbRun(R, 'live')],
    ] as const;
    for (const [sender, run] of runs) {
      const f = await run();
      rows.push(line(kind, sender, f));
      console.log(rows.at(-1));
      // The router's sessions to the senders that just stopped must be gone before the next ones connect.
      await sleep(2000);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  spawnSync('pkill', ['-KILL', '-f', 'bench/bgp-announcer.ts']);
  teardown();
}
console.log(`\n${ROUTES} host routes from each of ${NODES.length} nodes (${ALL} paths at the router); times from the command (the sessions' start with the routes loaded, or the routes given to Established sessions) until the router's RIB holds every path, and from the withdrawal until it holds none; each sender's CPU time and peak RSS (nodes 1 / 2 / 3)\n`);
console.log('| router | sender | sessions Established | all paths in | all withdrawn | sender CPU | sender peak RSS |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(r);
