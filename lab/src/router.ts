// The lab's router: BIRD 2 (Debian's bird2) in the `router` namespace, a real BGP
// speaker for ferrolb's BGP mode to peer with. It accepts routes from every node
// (eBGP: the router is AS 64512, the nodes AS 64513), exports none, and installs what it
// learns into the router's kernel table with ECMP across the nodes, as a top-of-rack
// router would. Hosts behind it (the client's default route points at it) then reach
// BGP-announced addresses (198.18.1.0/24, 2001:db8:18:1::/64) through the nodes.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths, router, type Host } from './layout.ts';
import { daemon, run } from './run.ts';

export const routerASN = 64512;
export const nodeASN = 64513;

export function birdAvailable(): boolean {
  return existsSync('/usr/sbin/bird') && existsSync('/usr/sbin/birdc');
}

export function birdSocket(): string {
  return join(paths.state, 'bird.ctl');
}

/**
 * BIRD's configuration. `password` makes every session require TCP MD5 (RFC 2385);
 * `bfd` runs BFD (300 ms x 3) on every session, and BIRD drops a session BFD says is down.
 */
export function birdConfig(nodes: readonly Host[], password?: string, bfd = false): string {
  const peers = nodes.map((n) => `protocol bgp ${n.name.replace('-', '_')} from lab_node {
  neighbor ${n.v4} as ${nodeASN};
}`).join('\n');
  return `# Written by lab/lab up: the lab router (docs/LAB.md).
log stderr all;
router id ${router.v4};

protocol device {
  scan time 2;
}
${bfd ? `
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

# The nodes open the sessions (ferrolb's speakers connect); the router waits for them.
template bgp lab_node {
  local ${router.v4} as ${routerASN};
  passive on;
  hold time 9;
  keepalive time 3;
  connect retry time 1;
  error wait time 1, 5;
${password !== undefined ? `  password "${password.replaceAll('"', '')}";
` : ''}${bfd ? '  bfd on;\n' : ''}  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}

${peers}
`;
}

export function startRouter(nodes: readonly Host[]): void {
  const config = join(paths.state, 'bird.conf');
  writeFileSync(config, birdConfig(nodes));
  daemon('bird', 'ip', ['netns', 'exec', router.netns, '/usr/sbin/bird', '-f', '-c', config, '-s', birdSocket(), '-P', join(paths.state, 'bird.pid')]);
}

/** `birdc` against the lab router; its output, or undefined if BIRD does not answer. */
export function birdc(args: readonly string[]): string | undefined {
  const r = run('/usr/sbin/birdc', ['-s', birdSocket(), ...args], { timeoutMs: 5000 });
  return r.status === 0 ? r.stdout : undefined;
}
