// The lab's router, in the `router` namespace: a real BGP speaker for ferrolb's BGP mode
// to peer with, one of the three users run most (`lab up --router bird|frr|gobgp`):
// BIRD 2 (Debian's bird2, the default), FRR (Debian's frr: zebra, bgpd, bfdd) or GoBGP
// (Debian's gobgpd). Each is AS 64512 with one passive eBGP neighbour per node (AS
// 64513) on the node's IPv4 address and one passive iBGP neighbour (AS 64512) on its IPv6
// address (a BGPPeer with myASN 64512 and the router's IPv6 address), accepts every
// route the nodes announce over IPv4 and IPv6 (MP-BGP), exports none, honours the
// GRACEFUL_SHUTDOWN community on eBGP as RFC 8326 4.2 asks of a receiving router (LOCAL_PREF
// 0: BIRD by its import filter, FRR by itself; GoBGP 1, by its import policy, which cannot
// say 0), and (BIRD, FRR) installs what it learns into the router's kernel table with ECMP
// across the nodes, as a top-of-rack router would. Hosts behind it (the client's
// default route points at it) then reach BGP-announced addresses (198.18.1.0/24,
// 2001:db8:18:1::/64) through the nodes. GoBGP keeps its RIB to itself: installing
// routes needs FRR's zebra beside it, whose API version Debian's GoBGP 3.10 and FRR 8.4
// do not share; its RIB is what the tests read.
//
// What the tests ask of a router is one interface (RouterControl), so one suite runs
// against all three: sessions and the capabilities the peer advertised, the paths for a
// prefix with their AS path and communities, BFD sessions, and a new configuration
// (TCP MD5, BFD).
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { paths, router, stateDir, type Host } from './layout.ts';
import { daemon, isAlive, run } from './run.ts';

export const routerASN = 64512;
export const nodeASN = 64513;

export const routerKinds = ['bird', 'frr', 'gobgp'] as const;
export type RouterKind = (typeof routerKinds)[number];

export interface RouterOptions {
  /** TCP MD5 (RFC 2385) on every session. */
  password?: string;
  /** BFD (RFC 5880), 300 ms x 3, on every session; the session drops when BFD does. */
  bfd?: boolean;
}

/** One path the router holds for a prefix. */
export interface RouterPath {
  nextHop: string;
  /** LOCAL_PREF as the router holds it (the node's on iBGP; the router's default or policy on eBGP). */
  localPref: number | undefined;
  asPath: string; // "64513"
  origin: string; // "IGP"
  communities: string[]; // "64512:100"
  largeCommunities: string[]; // "64512:1:2"
}

export interface RouterControl {
  readonly kind: RouterKind;
  /** Whether this router's software is installed (scripts/setup.sh installs all three). */
  available(): boolean;
  /** Whether the router puts what it learns into its kernel table (a client can use the routes). */
  readonly installsRoutes: boolean;
  readonly bfd: boolean;
  start(nodes: readonly Host[], opts?: RouterOptions): void;
  /** Answers its control interface. */
  ready(): boolean;
  /** Takes a new configuration (sessions may restart). */
  configure(nodes: readonly Host[], opts: RouterOptions): void;
  /** Node LAN address (IPv4 for eBGP, IPv6 for iBGP) -> whether the session is Established. */
  sessions(): Map<string, boolean>;
  /** Capabilities the node advertised in its OPEN, by name: 'graceful-restart', ... */
  capabilities(nodeIp: string): string[];
  /** The paths for an address (its /32 or /128) or a prefix ("198.18.1.0/24"); [] when none. */
  paths(ip: string): RouterPath[];
  /** Node LAN addresses whose BFD session is Up. */
  bfdUp(): string[];
  /** IPv4 paths in the router's BGP RIB from every peer (ECMP paths counted each); undefined when it does not answer. */
  ipv4PathCount(): number | undefined;
  /** Daemons whose pid files `lab status` should show. */
  readonly daemons: readonly string[];
}

const routerDir = join(paths.state, 'router');

function ensureDir(owner?: { uid: number; gid: number }): void {
  mkdirSync(routerDir, { recursive: true });
  if (owner) chownSync(routerDir, owner.uid, owner.gid);
}

function inRouter(cmd: string, args: readonly string[], timeoutMs = 15_000): { status: number | null; stdout: string } {
  const r = spawnSync('ip', ['netns', 'exec', router.netns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '' };
}

function json<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function stop(name: string): void {
  try {
    const pid = Number(readFileSync(join(paths.pids, `${name}.pid`), 'utf8').trim());
    if (pid > 1 && isAlive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    // never started
  }
}

/**
 * The router's kernel forwards as a top-of-rack router does. No ICMP redirects: the
 * client shares the LAN with the nodes, so a redirect would make it send straight to the
 * node the router chose first and keep doing so (its cached route), whatever BGP says
 * afterwards; a benchmark then measured that node's data plane, not the routes. ECMP by
 * flow (source and destination address and port, RFC 2992's hash-threshold), as switches
 * hash, so one client's connections spread over the nodes instead of all taking one path.
 */
function forwardLikeATopOfRackRouter(): void {
  const r = inRouter('sysctl', ['-q', '-w', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0', 'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv6.fib_multipath_hash_policy=1']);
  if (r.status !== 0) throw new Error('cannot set the router namespace\'s forwarding sysctls');
}

/** An address as a host prefix; a prefix as it is. */
const host = (ip: string) => ip.includes('/') ? ip : ip.includes(':') ? `${ip}/128` : `${ip}/32`;

// ---- BIRD 2 ----------------------------------------------------------------------

export function birdSocket(): string {
  return join(paths.state, 'bird.ctl');
}

/**
 * BIRD's configuration. `password` makes every session require TCP MD5 (RFC 2385);
 * `bfd` runs BFD (300 ms x 3) on every session, and BIRD drops a session BFD says is down.
 */
export function birdConfig(nodes: readonly Host[], opts: RouterOptions = {}): string {
  const peers = nodes.map((n) => `protocol bgp ${n.name.replace('-', '_')} from lab_node {
  neighbor ${n.v4} as ${nodeASN};
}
protocol bgp ${n.name.replace('-', '_')}_ibgp from lab_node_ibgp {
  neighbor ${n.v6} as ${routerASN};
}`).join('\n');
  const session = `  passive on;
  hold time 9;
  keepalive time 3;
  connect retry time 1;
  error wait time 1, 5;
${opts.password !== undefined ? `  password "${opts.password.replaceAll('"', '')}";
` : ''}${opts.bfd ? '  bfd on;\n' : ''}`;
  return `# Written by lab/lab up: the lab router (docs/LAB.md).
log stderr all;
router id ${router.v4};

protocol device {
  scan time 2;
}
${opts.bfd ? `
protocol bfd lab_bfd {
  interface "eth0" { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; };
}
` : ''}

# Learned routes go to the kernel; equal routes from several nodes become one ECMP route.
protocol kernel kernel4 {
  ipv4 { import none; export all; };
  merge paths on;
}
protocol kernel kernel6 {
  ipv6 { import none; export all; };
  merge paths on;
}

# RFC 8326 4.2: a path an eBGP neighbour marks GRACEFUL_SHUTDOWN (65535:0) loses to
# every other (iBGP neighbours set LOCAL_PREF 0 themselves).
filter lab_import {
  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
  accept;
}

# The nodes open the sessions (ferrolb's speakers connect); the router waits for them.
template bgp lab_node {
  local ${router.v4} as ${routerASN};
${session}  ipv4 { import filter lab_import; export none; };
  ipv6 { import filter lab_import; export none; };
}

# iBGP from the nodes' IPv6 addresses, on the LAN (BIRD takes iBGP for multihop unless
# told), so next hops resolve directly (there is no IGP here).
template bgp lab_node_ibgp {
  local ${router.v6} as ${routerASN};
  direct;
${session}  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}

${peers}
`;
}

/** `birdc` against the lab router; its output, or undefined if BIRD does not answer. */
export function birdc(args: readonly string[]): string | undefined {
  const r = run('/usr/sbin/birdc', ['-s', birdSocket(), ...args], { timeoutMs: 5000 });
  return r.status === 0 ? r.stdout : undefined;
}

const birdNames: Record<string, string> = { 'Graceful restart': 'graceful-restart', '4-octet AS numbers': 'four-octet-as', 'Route refresh': 'route-refresh', 'Multiprotocol': 'multiprotocol' };

const bird: RouterControl = {
  kind: 'bird',
  installsRoutes: true,
  bfd: true,
  daemons: ['bird'],
  available: () => existsSync('/usr/sbin/bird') && existsSync('/usr/sbin/birdc'),
  start(nodes, opts = {}) {
    forwardLikeATopOfRackRouter();
    const config = join(paths.state, 'bird.conf');
    writeFileSync(config, birdConfig(nodes, opts));
    daemon('bird', 'ip', ['netns', 'exec', router.netns, '/usr/sbin/bird', '-f', '-c', config, '-s', birdSocket(), '-P', join(paths.state, 'bird.pid')]);
  },
  ready: () => birdc(['show', 'status']) !== undefined,
  configure(nodes, opts) {
    writeFileSync(join(paths.state, 'bird.conf'), birdConfig(nodes, opts));
    const out = birdc(['configure']) ?? '';
    if (!/Reconfigur/.test(out)) throw new Error(`birdc configure: ${out}`);
  },
  sessions() {
    const out = birdc(['show', 'protocols']) ?? '';
    const m = new Map<string, boolean>();
    for (const line of out.split('\n')) {
      const p = /^node_(\d+)(_ibgp)?\s+BGP\s/.exec(line);
      if (p) m.set(p[2] ? `${router.v6.replace(/::\d+$/, '')}::${10 + Number(p[1])}` : `198.18.0.${10 + Number(p[1])}`, /Established/.test(line));
    }
    return m;
  },
  capabilities(nodeIp) {
    const protocol = `node_${Number(nodeIp.split('.')[3]) - 10}`;
    const lines = (birdc(['show', 'protocols', 'all', protocol]) ?? '').split('\n');
    const i = lines.findIndex((l) => l.includes('Neighbor capabilities'));
    if (i < 0) return [];
    const indent = lines[i]!.search(/\S/);
    const out: string[] = [];
    for (const l of lines.slice(i + 1)) {
      if (l.search(/\S/) <= indent) break;
      const name = l.trim().split(/\s{2,}|:/)[0]!.trim();
      out.push(birdNames[name] ?? name);
    }
    return out;
  },
  ipv4PathCount() {
    // "N of M routes for K networks in table master4": master4 holds only what BGP learned
    // (no direct or kernel routes are imported).
    const m = /(\d+) of \d+ routes for \d+ networks in table master4/.exec(birdc(['show', 'route', 'count', 'table', 'master4']) ?? '');
    return m ? Number(m[1]) : undefined;
  },
  paths(ip) {
    const out = birdc(['show', 'route', 'all', host(ip)]) ?? '';
    // The exact prefix (`for` would give the longest match, an aggregate for an address).
    // One block per path: "PREFIX unicast [node_1 TIME] * (100) [AS64513i]", then
    // "via NEXTHOP on eth0" and its BGP.* attributes, one per line.
    const result: RouterPath[] = [];
    let cur: RouterPath | undefined;
    for (const line of out.split('\n')) {
      if (/\[node_\d+(_ibgp)? /.test(line)) {
        cur = { nextHop: '', localPref: undefined, asPath: '', origin: '', communities: [], largeCommunities: [] };
        result.push(cur);
        continue;
      }
      if (!cur) continue;
      const via = /^\s+via ([0-9a-f.:]+) on /.exec(line);
      if (via && !cur.nextHop) cur.nextHop = via[1]!;
      const attr = /^\s+BGP\.(\w+): (.*)$/.exec(line);
      if (!attr) continue;
      const [, name, value] = attr;
      if (name === 'as_path') cur.asPath = value!.trim();
      if (name === 'origin') cur.origin = value!.trim();
      if (name === 'local_pref') cur.localPref = Number(value!.trim());
      if (name === 'next_hop') cur.nextHop = value!.trim().split(/\s+/)[0]!;
      if (name === 'community') cur.communities = [...value!.matchAll(/\((\d+),(\d+)\)/g)].map((c) => `${c[1]}:${c[2]}`);
      if (name === 'large_community') cur.largeCommunities = [...value!.matchAll(/\((\d+), (\d+), (\d+)\)/g)].map((c) => `${c[1]}:${c[2]}:${c[3]}`);
    }
    return result;
  },
  bfdUp() {
    const out = birdc(['show', 'bfd', 'sessions']) ?? '';
    return [...out.matchAll(/^(\S+)\s+eth0\s+Up/gm)].map((m) => m[1]!);
  },
};

// ---- FRR ---------------------------------------------------------------------------

// FRR's daemons insist on running as a user in its vty group (Debian: frr, in frrvty),
// so their directory is theirs; the state directory above it is traversable (0711).
const frrDaemons = ['zebra', 'bgpd', 'bfdd'] as const;

function frrIds(): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', 'frr'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'frr'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('user frr is missing (apt-get install frr)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export function frrBgpConfig(nodes: readonly Host[], opts: RouterOptions = {}): string {
  const lines = [
    '! Written by lab/lab up: the lab router (docs/LAB.md).',
    'hostname lab-router',
    'log stdout informational',
    `router bgp ${routerASN}`,
    ` bgp router-id ${router.v4}`,
    // A lab router accepts whatever its nodes announce, without policies (RFC 8212's
    // default refusal is for real borders).
    ' no bgp ebgp-requires-policy',
    ' neighbor nodes peer-group',
    ` neighbor nodes remote-as ${nodeASN}`,
    ' neighbor nodes passive',
    ' neighbor nodes timers 3 9',
    ' neighbor nodes timers connect 1',
    ...(opts.password !== undefined ? [` neighbor nodes password ${opts.password.replace(/\s/g, '')}`] : []),
    ...(opts.bfd ? [' neighbor nodes bfd profile lab'] : []),
    ...nodes.map((n) => ` neighbor ${n.v4} peer-group nodes`),
    // iBGP from the nodes' IPv6 addresses. FRR lowers an eBGP path marked
    // GRACEFUL_SHUTDOWN to LOCAL_PREF 0 by itself (RFC 8326 4.2).
    ' neighbor ibgp-nodes peer-group',
    ' neighbor ibgp-nodes remote-as internal',
    ' neighbor ibgp-nodes passive',
    ' neighbor ibgp-nodes timers 3 9',
    ' neighbor ibgp-nodes timers connect 1',
    ...(opts.password !== undefined ? [` neighbor ibgp-nodes password ${opts.password.replace(/\s/g, '')}`] : []),
    ...nodes.map((n) => ` neighbor ${n.v6} peer-group ibgp-nodes`),
    ' address-family ipv4 unicast',
    '  neighbor ibgp-nodes activate',
    '  maximum-paths 16',
    '  maximum-paths ibgp 16',
    ' exit-address-family',
    ' address-family ipv6 unicast',
    '  neighbor nodes activate',
    '  neighbor ibgp-nodes activate',
    '  maximum-paths 16',
    '  maximum-paths ibgp 16',
    ' exit-address-family',
    '',
  ];
  return lines.join('\n');
}

const frrBfdConfig = `hostname lab-router
log stdout informational
bfd
 profile lab
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
`;

function vtysh(...commands: string[]): string {
  const args = ['--vty_socket', routerDir];
  for (const c of commands) args.push('-c', c);
  return inRouter('vtysh', args).stdout;
}

function startFrrDaemon(d: (typeof frrDaemons)[number]): void {
  daemon(`frr-${d}`, 'ip', ['netns', 'exec', router.netns, `/usr/lib/frr/${d}`,
    '-f', join(routerDir, `${d}.conf`), '-i', join(routerDir, `${d}.pid`), '-z', join(routerDir, 'zserv.api'),
    '--vty_socket', routerDir, '-u', 'frr', '-g', 'frr', '-P', '0',
    ...(d === 'bfdd' ? ['--bfdctl', join(routerDir, 'bfdd.sock')] : []),
  ]);
}

// FRR shows the well-known communities by name (RFC 1997, RFC 8326, RFC 7999, ...); the
// tests compare numbers.
const frrCommunityNames: Record<string, string> = {
  'internet': '0:0', 'graceful-shutdown': '65535:0', 'accept-own': '65535:1', 'route-filter-translated-v4': '65535:2', 'route-filter-v4': '65535:3',
  'route-filter-translated-v6': '65535:4', 'route-filter-v6': '65535:5', 'llgr-stale': '65535:6', 'no-llgr': '65535:7', 'accept-own-nexthop': '65535:8',
  'blackhole': '65535:666', 'no-export': '65535:65281', 'no-advertise': '65535:65282', 'local-AS': '65535:65283', 'no-peer': '65535:65284',
};

interface FrrPath { aspath?: { string?: string; length?: number }; origin?: string; localpref?: number; locPrf?: number; community?: { string?: string }; largeCommunity?: { string?: string }; nexthops?: { ip?: string; afi?: string; scope?: string }[] }

const frr: RouterControl = {
  kind: 'frr',
  installsRoutes: true,
  bfd: true,
  daemons: frrDaemons.map((d) => `frr-${d}`),
  available: () => frrDaemons.every((d) => existsSync(`/usr/lib/frr/${d}`)) && existsSync('/usr/bin/vtysh'),
  start(nodes, opts = {}) {
    forwardLikeATopOfRackRouter();
    const ids = frrIds();
    ensureDir(ids);
    writeFileSync(join(routerDir, 'zebra.conf'), 'hostname lab-router\nlog stdout informational\n');
    writeFileSync(join(routerDir, 'bfdd.conf'), frrBfdConfig);
    writeFileSync(join(routerDir, 'bgpd.conf'), frrBgpConfig(nodes, opts));
    for (const d of frrDaemons) startFrrDaemon(d);
  },
  ready: () => json(vtysh('show bgp summary json')) !== undefined,
  configure(nodes, opts) {
    // bgpd reads its file at start: restart it (zebra keeps the kernel routes' owner).
    stop('frr-bgpd');
    writeFileSync(join(routerDir, 'bgpd.conf'), frrBgpConfig(nodes, opts));
    startFrrDaemon('bgpd');
  },
  sessions() {
    const s = json<{ ipv4Unicast?: { peers?: Record<string, { state?: string }> } }>(vtysh('show bgp summary json'));
    return new Map(Object.entries(s?.ipv4Unicast?.peers ?? {}).map(([ip, p]) => [ip, p.state === 'Established']));
  },
  capabilities(nodeIp) {
    const n = json<Record<string, { neighborCapabilities?: Record<string, unknown> }>>(vtysh(`show bgp neighbors ${nodeIp} json`));
    const caps = n?.[nodeIp]?.neighborCapabilities ?? {};
    const names: Record<string, string> = { gracefulRestart: 'graceful-restart', gracefulRestartCapability: 'graceful-restart', '4byteAs': 'four-octet-as', routeRefresh: 'route-refresh', multiprotocolExtensions: 'multiprotocol' };
    // Values say who advertised it ("advertisedAndReceived", {"advertisedAndReceived": true},
    // "advertised"): keep what the node sent.
    return Object.entries(caps)
      .filter(([, v]) => /received/i.test(typeof v === 'string' ? v : JSON.stringify(v)))
      .map(([k]) => names[k] ?? k);
  },
  ipv4PathCount() {
    type Peers = Record<string, { pfxRcd?: number }>;
    const r = json<{ peers?: Peers; ipv4Unicast?: { peers?: Peers } }>(vtysh('show bgp ipv4 unicast summary json'));
    const peers = r?.peers ?? r?.ipv4Unicast?.peers;
    return peers ? Object.values(peers).reduce((sum, p) => sum + (p.pfxRcd ?? 0), 0) : undefined;
  },
  paths(ip) {
    const afi = ip.includes(':') ? 'ipv6' : 'ipv4';
    const r = json<{ paths?: FrrPath[] }>(vtysh(`show bgp ${afi} unicast ${host(ip)} json`));
    return (r?.paths ?? []).map((p) => ({
      // The global next hop (an IPv6 path also lists its link-local one).
      nextHop: (p.nexthops ?? []).find((h) => h.scope !== 'link-local')?.ip ?? '',
      localPref: p.localpref ?? p.locPrf,
      // An empty AS_PATH (iBGP) is "Local" in FRR's words.
      asPath: p.aspath?.length === 0 || p.aspath?.string === 'Local' ? '' : p.aspath?.string ?? '',
      origin: p.origin ?? '',
      communities: (p.community?.string ?? '').split(' ').filter(Boolean).map((c) => frrCommunityNames[c] ?? c),
      largeCommunities: (p.largeCommunity?.string ?? '').split(' ').filter(Boolean),
    }));
  },
  bfdUp() {
    const peers = json<{ peer?: string; status?: string }[]>(vtysh('show bfd peers json')) ?? [];
    return peers.filter((p) => p.status === 'up').map((p) => p.peer ?? '');
  },
};

// ---- GoBGP -------------------------------------------------------------------------

const gobgpApi = '127.0.0.1:50051'; // inside the router namespace only

export function gobgpConfig(nodes: readonly Host[], opts: RouterOptions = {}): string {
  const out = [
    '# Written by lab/lab up: the lab router (docs/LAB.md).',
    '[global.config]',
    `  as = ${routerASN}`,
    `  router-id = "${router.v4}"`,
    `  local-address-list = ["${router.v4}", "${router.v6}"]`,
    '[global.use-multiple-paths.config]',
    '  enabled = true',
    // RFC 8326 4.2: an eBGP path marked GRACEFUL_SHUTDOWN gets a low LOCAL_PREF: 1, since
    // GoBGP's configuration takes 0 for "not set" (Go's zero value) and leaves the path as it is.
    // eBGP only (the nodes' IPv4 neighbours): an iBGP neighbour sets LOCAL_PREF 0 itself,
    // and the global import policy would otherwise overwrite it with 1.
    '[global.apply-policy.config]',
    '  import-policy-list = ["gshut"]',
    '  default-import-policy = "accept-route"',
    '[[defined-sets.neighbor-sets]]',
    '  neighbor-set-name = "ebgp"',
    `  neighbor-info-list = [${nodes.map((n) => `"${n.v4}"`).join(', ')}]`,
    '[[defined-sets.bgp-defined-sets.community-sets]]',
    '  community-set-name = "gshut"',
    '  community-list = ["65535:0"]',
    '[[policy-definitions]]',
    '  name = "gshut"',
    '  [[policy-definitions.statements]]',
    '    name = "gshut"',
    '    [policy-definitions.statements.conditions.match-neighbor-set]',
    '      neighbor-set = "ebgp"',
    '      match-set-options = "any"',
    '    [policy-definitions.statements.conditions.bgp-conditions.match-community-set]',
    '      community-set = "gshut"',
    '      match-set-options = "any"',
    '    [policy-definitions.statements.actions]',
    '      route-disposition = "accept-route"',
    '    [policy-definitions.statements.actions.bgp-actions]',
    '      set-local-pref = 1',
  ];
  // eBGP on each node's IPv4 address, iBGP on its IPv6 address.
  for (const [address, as] of nodes.flatMap((n) => [[n.v4, nodeASN], [n.v6, routerASN]] as const)) {
    out.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${address}"`,
      `    peer-as = ${as}`,
      ...(opts.password !== undefined ? [`    auth-password = "${opts.password.replaceAll('"', '')}"`] : []),
      '  [neighbors.timers.config]',
      '    hold-time = 9',
      '    keepalive-interval = 3',
      '    connect-retry = 1',
      '  [neighbors.transport.config]',
      '    passive-mode = true',
      // Helper for a restarting node (RFC 4724): keep its routes while it comes back.
      '  [neighbors.graceful-restart.config]',
      '    enabled = true',
      '    helper-only = true',
    );
    for (const afi of ['ipv4-unicast', 'ipv6-unicast']) {
      out.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${afi}"`, '    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
    }
  }
  return out.join('\n') + '\n';
}

function gobgp(...args: string[]): string {
  return inRouter('/usr/bin/gobgp', ['--host', '127.0.0.1', '--port', '50051', ...args]).stdout;
}

interface GobgpPeer { conf?: { neighbor_address?: string }; state?: { session_state?: number | string; neighbor_address?: string }; capabilities?: unknown }
// `gobgp global rib -j` (GoBGP 3.10): attributes by type code (RFC 4271 section 5: 1
// ORIGIN, 2 AS_PATH, 3 NEXT_HOP, 5 LOCAL_PREF; 8 COMMUNITIES, RFC 1997; 14 MP_REACH_NLRI, RFC 4760; 32
// LARGE_COMMUNITY, RFC 8092).
interface GobgpAttr { type?: number; as_paths?: { segment_type?: number; asns?: number[] }[]; value?: unknown; communities?: number[]; nexthop?: string }
interface GobgpDest { nexthop?: string; attrs?: GobgpAttr[]; 'source-id'?: string; neighbor?: string; best?: boolean }

function startGobgp(nodes: readonly Host[], opts: RouterOptions): void {
  forwardLikeATopOfRackRouter();
  ensureDir();
  const config = join(routerDir, 'gobgpd.toml');
  writeFileSync(config, gobgpConfig(nodes, opts));
  daemon('gobgpd', 'ip', ['netns', 'exec', router.netns, '/usr/bin/gobgpd', '-f', config, '-t', 'toml', '--api-hosts', gobgpApi, '--log-level', 'info', '--log-plain', '--pprof-disable']);
}

const gobgpd: RouterControl = {
  kind: 'gobgp',
  installsRoutes: false,
  bfd: false, // GoBGP has no BFD
  daemons: ['gobgpd'],
  available: () => existsSync('/usr/bin/gobgpd') && existsSync('/usr/bin/gobgp'),
  start: (nodes, opts = {}) => startGobgp(nodes, opts),
  ready: () => inRouter('/usr/bin/gobgp', ['--host', '127.0.0.1', '--port', '50051', 'global']).status === 0,
  configure(nodes, opts) {
    stop('gobgpd');
    startGobgp(nodes, opts);
  },
  sessions() {
    const peers = json<GobgpPeer[]>(gobgp('neighbor', '-j')) ?? [];
    // session_state 6 (or "established"): ESTABLISHED in GoBGP's API enum.
    return new Map(peers.map((p) => [p.conf?.neighbor_address ?? p.state?.neighbor_address ?? '', p.state?.session_state === 6 || p.state?.session_state === 'established' || p.state?.session_state === 'ESTABLISHED']));
  },
  capabilities(nodeIp) {
    const text = gobgp('neighbor', nodeIp);
    // "Neighbor capabilities:" lists each with advertised/received; keep the received ones.
    const out: string[] = [];
    for (const line of text.split('\n')) {
      const m = /^\s+([a-z0-9-]+):\s+.*received/.exec(line);
      if (m) out.push(m[1] === 'graceful-restart' ? 'graceful-restart' : m[1] === '4-octet-as' ? 'four-octet-as' : m[1]!);
    }
    return out;
  },
  ipv4PathCount() {
    // "Table ipv4-unicast\nDestination: D, Path: P"
    const m = /Path: (\d+)/.exec(gobgp('global', 'rib', '-a', 'ipv4', 'summary'));
    return m ? Number(m[1]) : undefined;
  },
  paths(ip) {
    const afi = ip.includes(':') ? 'ipv6' : 'ipv4';
    const rib = json<Record<string, GobgpDest[]> | GobgpDest[]>(gobgp('global', 'rib', '-a', afi, host(ip), '-j'));
    const dests = Array.isArray(rib) ? rib : Object.values(rib ?? {}).flat();
    return dests.map((d) => {
      const attrs = d.attrs ?? [];
      const asns = attrs.find((a) => a.type === 2)?.as_paths?.flatMap((seg) => seg.asns ?? []) ?? [];
      const origin = attrs.find((a) => a.type === 1);
      const localPref = attrs.find((a) => a.type === 5)?.value;
      const comm = attrs.find((a) => a.type === 8)?.communities ?? [];
      const large = (attrs.find((a) => a.type === 32)?.value ?? []) as { ASN?: number; LocalData1?: number; LocalData2?: number }[];
      const mpNextHop = (attrs.find((a) => a.type === 14) as { nexthop?: string } | undefined)?.nexthop;
      return {
        nextHop: mpNextHop ?? attrs.find((a) => a.type === 3)?.nexthop ?? d.nexthop ?? '',
        localPref: typeof localPref === 'number' ? localPref : undefined,
        asPath: asns.join(' '),
        origin: origin?.value === 0 ? 'IGP' : origin?.value === 1 ? 'EGP' : origin?.value === 2 ? 'incomplete' : String(origin?.value ?? ''),
        communities: comm.map((c) => `${Math.floor(c / 65536)}:${c % 65536}`),
        largeCommunities: large.map((v) => `${v.ASN}:${v.LocalData1}:${v.LocalData2}`),
      };
    });
  },
  bfdUp: () => [],
};

const controls: Record<RouterKind, RouterControl> = { bird, frr, gobgp: gobgpd };

export function routerControl(kind: RouterKind): RouterControl {
  return controls[kind];
}

/** The lab's state directory is the root's, but FRR's daemons run as frr: let them through to theirs. */
export function allowRouterUser(): void {
  chmodSync(stateDir, 0o711);
}
