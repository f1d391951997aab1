// BGP mode end to end, against each of the three routers users run most (lab/src/router.ts:
// BIRD 2, FRR, GoBGP, in the router namespace): ferrolb's speakers in the lab's nodes
// peer with it, announce each service IP from every eligible node, and the client
// reaches the service through the router's ECMP route (BIRD and FRR install routes;
// GoBGP's RIB is checked instead). Then iBGP with LOCAL_PREF, graceful shutdown (RFC
// 8326), TCP MD5, BFD (BIRD, FRR; GoBGP has none) and graceful restart against each.
// One three-node lab per router: each test leaves the lab as it found it (router
// configuration, BGPPeer, speakers running). A router that is not installed skips its
// suite, except under CI=true, where that is a failure (describeLab).
import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describeLab, eventually, freshNamespace, kubectl, kubectlJson, lab, labOk, stateDir, useLab, type LabNeed, applyYaml } from '../helpers/lab.ts';
import { routerControl, routerKinds, type RouterControl } from '../../lab/src/router.ts';
import { nodeHost } from '../../lab/src/layout.ts';
import { startSpeaker } from '../../lab/src/ferrolb.ts';

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec:
  addresses: ["198.18.1.0/24"]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec:
  myASN: 64513
  peerASN: 64512
  peerAddress: 198.18.0.1
  holdTime: 9s
  keepaliveTime: 3s
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-adv, namespace: metallb-system}
spec:
  ipAddressPools: [bgp-pool]
  communities: ["64512:100"]
`;

/** The router kernel's next hops for an address (one line per ECMP path), IPv4 or IPv6. */
function kernelNextHops(ip: string): string[] {
  const v6 = ip.includes(':');
  const r = spawnSync('ip', [v6 ? '-6' : '-4', '-n', 'flb-router', 'route', 'show', `${ip}/${v6 ? 128 : 32}`], { encoding: 'utf8', timeout: 5000 });
  return [...r.stdout.matchAll(v6 ? /via (2001:db8:18::\w+)/g : /via (198\.18\.0\.\d+)/g)].map((m) => m[1]!).sort();
}

// The router under test; set by each suite before its lab comes up.
let R: RouterControl = routerControl('bird');

/**
 * Where traffic for an address goes: the router's kernel routes when it installs what it
 * learns (the strong claim: a client uses them), else the next hops in its RIB.
 */
function routerNextHops(ip: string): string[] {
  return R.installsRoutes ? kernelNextHops(ip) : R.paths(ip).map((p) => p.nextHop).sort();
}

/** Whether the router has these nodes' sessions (by LAN address) Established. */
function established(...nodeIps: string[]): boolean {
  const s = R.sessions();
  return nodeIps.every((ip) => s.get(ip) === true);
}

/**
 * The MD5, BFD and graceful restart setups: the BGPPeer given, the BGP pool and its
 * advertisement, and a 3-replica deployment exposed as a LoadBalancer; resolves with the
 * service IP once the router has a path through every node.
 */
async function everyPathService(prefix: string, peerSpec: string): Promise<{ ns: string; ip: string }> {
  applyYaml(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: ${peerSpec}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec: {addresses: ["198.18.1.0/24"]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-adv, namespace: metallb-system}
spec: {ipAddressPools: [bgp-pool]}
`);
  const ns = freshNamespace(prefix);
  labOk(['deploy', 'web', '--replicas', '3', '--namespace', ns]);
  kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
  const ip = await serviceIP(ns, 'web');
  await eventually('three paths', 30_000, () => (routerNextHops(ip).length === 3 ? true : undefined), 300);
  return { ns, ip };
}

async function serviceIP(ns: string, name: string): Promise<string> {
  return eventually(`an EXTERNAL-IP for ${ns}/${name}`, 20_000, () => {
    const svc = kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('get', 'service', name, '-n', ns);
    return svc.status?.loadBalancer?.ingress?.[0]?.ip;
  });
}

const NODE_IPS = ['198.18.0.11', '198.18.0.12', '198.18.0.13'];
/** The nodes' iBGP sessions come from their IPv6 addresses (lab/src/router.ts). */
const NODE_IPS_V6 = ['2001:db8:18::11', '2001:db8:18::12', '2001:db8:18::13'];
const GRACEFUL_SHUTDOWN = '65535:0';

function speakerPid(node: number): number {
  return Number(readFileSync(`${stateDir}/pids/ferrolb-speaker-node-${node}.pid`, 'utf8').trim());
}

async function stopSpeaker(node: number, signal: NodeJS.Signals): Promise<void> {
  const pid = speakerPid(node);
  process.kill(pid, signal);
  await eventually(`speaker node-${node} gone`, 20_000, () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  }, 100);
}

/** Starts node-N's speaker again and waits for its eBGP session. */
async function restartSpeaker(node: number): Promise<void> {
  startSpeaker(nodeHost(node));
  await eventually(`node-${node} Established again`, 30_000, () => established(NODE_IPS[node - 1]!) || undefined, 300);
}

/**
 * Watches one node's path to `ip` until it is gone: resolves with what the router held
 * for it at each look (undefined once gone), so a test sees whether it was marked
 * before it went.
 */
async function pathUntilGone(ip: string, nextHop: string, ms: number): Promise<{ communities: string[]; localPref: number | undefined }[]> {
  const seen: { communities: string[]; localPref: number | undefined }[] = [];
  await eventually(`${nextHop}'s path to ${ip} gone`, ms, () => {
    const p = R.paths(ip).find((x) => x.nextHop === nextHop);
    if (!p) return true;
    seen.push({ communities: p.communities, localPref: p.localPref });
    return undefined;
  }, 100);
  return seen;
}

/**
 * Counts the IPv4 TCP SYNs that reach the router's port 179 from the nodes' LAN, by TTL:
 * an nftables table in the router namespace, removed by remove().
 */
function routerSYNCounter(): { read(): { ttl1: number; ttl255: number; other: number }; remove(): void } {
  const nft = (args: string[], input?: string) => {
    const r = spawnSync('ip', ['netns', 'exec', 'flb-router', 'nft', ...args], { encoding: 'utf8', timeout: 5000, ...(input ? { input } : {}) });
    assert.equal(r.status, 0, `nft ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  nft(['-f', '-'], `table ip flb_ttl {
  chain input {
    type filter hook input priority -10; policy accept;
    ip saddr 198.18.0.0/24 tcp dport 179 tcp flags & (syn | ack) == syn ip ttl 1 counter comment "ttl1"
    ip saddr 198.18.0.0/24 tcp dport 179 tcp flags & (syn | ack) == syn ip ttl 255 counter comment "ttl255"
    ip saddr 198.18.0.0/24 tcp dport 179 tcp flags & (syn | ack) == syn ip ttl != { 1, 255 } counter comment "other"
  }
}
`);
  return {
    read() {
      const counts = { ttl1: 0, ttl255: 0, other: 0 };
      const listed = JSON.parse(nft(['-j', 'list', 'table', 'ip', 'flb_ttl'])) as { nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[] };
      for (const item of listed.nftables) {
        const packets = item.rule?.expr.find((e) => e.counter)?.counter?.packets;
        const name = item.rule?.comment as keyof typeof counts | undefined;
        if (name && name in counts && packets !== undefined) counts[name] = packets;
      }
      return counts;
    },
    remove() {
      nft(['delete', 'table', 'ip', 'flb_ttl']);
    },
  };
}

function routerSuites(kind: (typeof routerKinds)[number]): void {
  const control = routerControl(kind);
  const needsRouter: LabNeed = () => (control.available() ? undefined : `${kind} is not installed (scripts/setup.sh installs it)`);

  describeLab(`BGP mode in the lab (${kind} as the router)`, { needs: [needsRouter] }, () => {
    before(() => {
      R = control;
    });
    useLab({ up: ['--nodes', '3', '--ferrolb', '--router', kind] });
    const nodes = [nodeHost(1), nodeHost(2), nodeHost(3)];
    /** The lab as the suite began: the router without MD5 or BFD, the suite's BGPPeer, three sessions. */
    const restore = async () => {
      R.configure(nodes, {});
      applyYaml(CONFIG);
      await eventually('three Established sessions', 40_000, () => established(...NODE_IPS) || undefined, 500);
    };
    let ns = '';
    before(() => {
      applyYaml(CONFIG);
      ns = freshNamespace('bgp');
      labOk(['deploy', 'web', '--replicas', '3', '--namespace', ns]);
    });

    it('every node establishes a session with the router', async () => {
      await eventually('three Established sessions', 30_000, () => {
        return established(...NODE_IPS) || undefined;
      }, 500);
    });

    it('TTL: eBGP to the directly connected router is sent with TTL 1; with ebgpMultiHop, 255 (docs/BGP.md "TTL")', async (t) => {
      const syns = routerSYNCounter();
      try {
        applyYaml(CONFIG.replace('keepaliveTime: 3s', 'keepaliveTime: 3s\n  ebgpMultiHop: true'));
        const multiHop = await eventually('every node reconnected with TTL 255', 40_000, () => {
          const c = syns.read();
          return c.ttl255 >= 3 && established(...NODE_IPS) ? c : undefined;
        }, 300);
        applyYaml(CONFIG);
        const singleHop = await eventually('every node reconnected with TTL 1', 40_000, () => {
          const c = syns.read();
          return c.ttl1 >= multiHop.ttl1 + 3 && established(...NODE_IPS) ? c : undefined;
        }, 300);
        t.diagnostic(`SYNs to port 179 at the router: multi-hop ${JSON.stringify(multiHop)}, then single-hop ${JSON.stringify(singleHop)}`);
        assert.equal(singleHop.ttl255, multiHop.ttl255, 'no TTL-255 SYN after ebgpMultiHop was turned off');
        assert.equal(singleHop.other, 0, 'every SYN had TTL 1 or 255, none the system default');
      } finally {
        syns.remove();
        await restore();
      }
    });

    it(control.installsRoutes ? 'a service IP is announced from every node: the router has an ECMP route, the client reaches every pod through it' : 'a service IP is announced from every node: the router\'s RIB has a path through each', async () => {
      kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
      const ip = await serviceIP(ns, 'web');
      assert.match(ip, /^198\.18\.1\./);
      const hops = await eventually('an ECMP route over the three nodes', 30_000, () => {
        const h = routerNextHops(ip);
        return h.length === 3 ? h : undefined;
      }, 300);
      assert.deepEqual(hops, NODE_IPS);
      const paths = R.paths(ip);
      assert.deepEqual(paths.map((p) => p.nextHop).sort(), NODE_IPS);
      for (const p of paths) {
        assert.equal(p.origin, 'IGP');
        assert.equal(p.asPath, '64513');
        assert.deepEqual(p.communities, ['64512:100']);
      }
      const pods = new Set<string>();
      // Through the router's routes: only a router that installs them can carry traffic.
      for (let i = 0; R.installsRoutes && i < 40 && pods.size < 3; i++) {
        const r = lab(['exec', 'client', 'curl', '-s', '-m', '2', `http://${ip}/`], 10_000);
        assert.equal(r.status, 0, `curl http://${ip}/ from the client through the router: ${r.stderr}`);
        pods.add(r.stdout.trim());
      }
      if (R.installsRoutes) assert.equal(pods.size, 3);
      // ServiceBGPStatus: one per announcing node, naming the peers that carry the route.
      await eventually('a ServiceBGPStatus from each node', 10_000, () => {
        const items = kubectlJson<{ items: { status?: { node?: string; serviceName?: string; serviceNamespace?: string; peers?: string[] } }[] }>('get', 'servicebgpstatuses', '-n', 'metallb-system').items
          .filter((o) => o.status?.serviceNamespace === ns && o.status.serviceName === 'web');
        const nodes = items.map((o) => `${o.status?.node}:${(o.status?.peers ?? []).join(',')}`).sort();
        return nodes.join(' ') === 'node-1:router node-2:router node-3:router' ? true : undefined;
      }, 300);
      // Every speaker says its configuration is valid.
      for (const node of ['node-1', 'node-2', 'node-3']) {
        await eventually(`ConfigurationState speaker-${node}`, 10_000, () => kubectlJson<{ status?: { result?: string } }>('get', 'configurationstate', `speaker-${node}`, '-n', 'metallb-system').status?.result === 'Valid' || undefined, 300);
      }
    });

    it('externalTrafficPolicy Local: only nodes with a ready endpoint announce', async () => {
      const local = freshNamespace('bgplocal');
      labOk(['deploy', 'one', '--replicas', '1', '--namespace', local]);
      applyYaml(`apiVersion: v1
kind: Service
metadata: {name: one, namespace: ${local}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: one}
  ports: [{port: 80}]
`);
      const ip = await serviceIP(local, 'one');
      const pod = kubectlJson<{ items: { metadata: { name: string }; spec: { nodeName: string } }[] }>('get', 'pods', '-n', local).items[0]!;
      const nodeIP = `198.18.0.${10 + Number(pod.spec.nodeName.split('-')[1])}`;
      await eventually('a route through the pod\'s node only', 30_000, () => {
        const h = routerNextHops(ip);
        return h.length === 1 && h[0] === nodeIP ? true : undefined;
      }, 300);
      labOk(['pod', 'stop', pod.metadata.name, '--namespace', local]);
      await eventually('the route withdrawn when no endpoint is ready', 30_000, () => (routerNextHops(ip).length === 0 ? true : undefined), 300);
    });

    it('IPv6: a dual-stack service\'s IPv6 address goes over MP-BGP (RFC 4760) on the IPv4 session, with each node\'s IPv6 next hop; the router installs an IPv6 ECMP route', async () => {
      applyYaml(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-dual, namespace: metallb-system}
spec: {addresses: ["198.18.0.248/29", "2001:db8:19::/120"], autoAssign: false}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-dual, namespace: metallb-system}
spec: {ipAddressPools: [bgp-dual], communities: ["large:64512:1:2"]}
---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: ${ns}, annotations: {metallb.io/address-pool: bgp-dual}}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  selector: {app: web}
  ports: [{port: 80}]
`);
      const ips = await eventually('both addresses', 20_000, () => {
        const svc = kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('get', 'service', 'dual', '-n', ns);
        const got = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
        return got.length === 2 ? got : undefined;
      });
      const v6 = ips.find((ip) => ip.includes(':'))!;
      assert.match(v6, /^2001:db8:19::/);
      const hops = await eventually('an IPv6 ECMP route over the three nodes', 30_000, () => {
        const h = routerNextHops(v6);
        return h.length === 3 ? h : undefined;
      }, 300);
      assert.deepEqual(hops, ['2001:db8:18::11', '2001:db8:18::12', '2001:db8:18::13']);
      for (const p of R.paths(v6)) {
        assert.equal(p.asPath, '64513');
        assert.deepEqual(p.largeCommunities, ['64512:1:2']);
      }
      kubectl('delete', 'service', 'dual', '-n', ns);
      await eventually('the IPv6 route withdrawn', 30_000, () => (routerNextHops(v6).length === 0 ? true : undefined), 300);
    });

    it('aggregationLength: a service\'s address announced as its /24 (MetalLB\'s BGPAdvertisement field), withdrawn with the service', async () => {
      applyYaml(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-agg, namespace: metallb-system}
spec: {addresses: ["198.18.2.0/24"], autoAssign: false}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-agg, namespace: metallb-system}
spec: {ipAddressPools: [bgp-agg], aggregationLength: 24}
---
apiVersion: v1
kind: Service
metadata: {name: agg, namespace: ${ns}, annotations: {metallb.io/address-pool: bgp-agg}}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
`);
      const ip = await serviceIP(ns, 'agg');
      assert.match(ip, /^198\.18\.2\./);
      const paths = await eventually('the /24 from the three nodes', 30_000, () => {
        const p = R.paths('198.18.2.0/24');
        return p.length === 3 ? p : undefined;
      }, 300);
      assert.deepEqual(paths.map((p) => p.nextHop).sort(), NODE_IPS);
      assert.deepEqual(R.paths(ip), [], 'no host route besides the aggregate');
      kubectl('delete', 'service', 'agg', '-n', ns);
      await eventually('the /24 withdrawn', 30_000, () => (R.paths('198.18.2.0/24').length === 0 ? true : undefined), 300);
    });

    it('graceful shutdown (RFC 8326): a node excluded from load balancers first marks its path GRACEFUL_SHUTDOWN, then withdraws it; back, it announces it again', async (t) => {
      kubectl('expose', 'deployment', 'web', '--name', 'drain', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
      const ip = await serviceIP(ns, 'drain');
      await eventually('three paths', 30_000, () => (routerNextHops(ip).length === 3 ? true : undefined), 300);
      const label = 'node.kubernetes.io/exclude-from-external-load-balancers';
      kubectl('label', 'node', 'node-3', `${label}=true`);
      try {
        const seen = await pathUntilGone(ip, '198.18.0.13', 30_000);
        const marked = seen.filter((p) => p.communities.includes(GRACEFUL_SHUTDOWN));
        t.diagnostic(`node-3's path seen marked ${marked.length} times before it went; LOCAL_PREF at the router ${[...new Set(marked.map((p) => p.localPref))].join(', ')}`);
        assert.ok(marked.length > 0, `the router saw GRACEFUL_SHUTDOWN on node-3's path before the withdrawal (saw ${JSON.stringify(seen.slice(-3))})`);
        assert.ok(marked.every((p) => p.communities.includes('64512:100')), 'the advertisement\'s own community kept');
        // eBGP: LOCAL_PREF is the router's, from its RFC 8326 4.2 policy (lab/src/router.ts:
        // 0, or 1 for GoBGP), below the default 100 of the other paths.
        assert.ok(marked.some((p) => p.localPref !== undefined && p.localPref < 100), 'the router lowered the marked path\'s LOCAL_PREF');
        if (R.installsRoutes) assert.deepEqual(kernelNextHops(ip), ['198.18.0.11', '198.18.0.12']);
        assert.deepEqual(R.paths(ip).map((p) => p.nextHop).sort(), ['198.18.0.11', '198.18.0.12']);
      } finally {
        kubectl('label', 'node', 'node-3', `${label}-`);
      }
      await eventually('node-3 announcing again, unmarked', 30_000, () => {
        const p = R.paths(ip).find((x) => x.nextHop === '198.18.0.13');
        return p && !p.communities.includes(GRACEFUL_SHUTDOWN) ? true : undefined;
      }, 300);
      kubectl('delete', 'service', 'drain', '-n', ns);
      await eventually('the route withdrawn', 30_000, () => (R.paths(ip).length === 0 ? true : undefined), 300);
    });

    it('iBGP: the advertisement\'s localPref reaches the router; a stopping speaker marks its path GRACEFUL_SHUTDOWN with LOCAL_PREF 0 before it closes', async (t) => {
      applyYaml(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router-ibgp, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64512, peerAddress: "2001:db8:18::1", holdTime: 9s, keepaliveTime: 3s}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-ibgp, namespace: metallb-system}
spec: {addresses: ["198.18.3.0/24"], autoAssign: false}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-ibgp, namespace: metallb-system}
spec: {ipAddressPools: [bgp-ibgp], peers: [router-ibgp], localPref: 150}
---
apiVersion: v1
kind: Service
metadata: {name: ibgp, namespace: ${ns}, annotations: {metallb.io/address-pool: bgp-ibgp}}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
`);
      try {
        await eventually('three iBGP sessions', 30_000, () => established(...NODE_IPS_V6) || undefined, 500);
        const ip = await serviceIP(ns, 'ibgp');
        const paths = await eventually('three iBGP paths', 30_000, () => {
          const p = R.paths(ip);
          return p.length === 3 ? p : undefined;
        }, 300);
        assert.deepEqual(paths.map((p) => p.nextHop).sort(), NODE_IPS);
        for (const p of paths) {
          assert.equal(p.localPref, 150, 'LOCAL_PREF as the BGPAdvertisement says');
          assert.equal(p.asPath, '', 'iBGP: empty AS_PATH');
        }
        // node-3's speaker stops (no graceful restart on this peer): marked, then closed.
        const stopped = stopSpeaker(3, 'SIGTERM');
        const seen = await pathUntilGone(ip, '198.18.0.13', 30_000);
        await stopped;
        const marked = seen.filter((p) => p.communities.includes(GRACEFUL_SHUTDOWN));
        t.diagnostic(`node-3's iBGP path seen ${seen.length} times after the SIGTERM, ${marked.length} of them marked`);
        assert.ok(marked.length > 0, `the router saw GRACEFUL_SHUTDOWN before the path went (saw ${JSON.stringify(seen.slice(-3))})`);
        assert.ok(marked.every((p) => p.localPref === 0), 'LOCAL_PREF 0 from the node itself on iBGP');
        assert.deepEqual(R.paths(ip).map((p) => p.nextHop).sort(), ['198.18.0.11', '198.18.0.12']);
      } finally {
        if (!existsSync(`/proc/${speakerPid(3)}`)) await restartSpeaker(3);
        kubectl('delete', 'service', 'ibgp', '-n', ns, '--ignore-not-found');
        kubectl('delete', 'bgpadvertisement', 'bgp-ibgp', '-n', 'metallb-system', '--ignore-not-found');
        kubectl('delete', 'ipaddresspool', 'bgp-ibgp', '-n', 'metallb-system', '--ignore-not-found');
        kubectl('delete', 'bgppeer', 'router-ibgp', '-n', 'metallb-system', '--ignore-not-found');
      }
    });

    it('a speaker that dies takes its path with it; deleting the service withdraws the rest', async () => {
      const ip = await serviceIP(ns, 'web');
      await eventually('three paths', 30_000, () => (routerNextHops(ip).length === 3 ? true : undefined), 300);
      const pid = Number(readFileSync(`${stateDir}/pids/ferrolb-speaker-node-2.pid`, 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      // The kernel closes the dead speaker's TCP connection; the router drops the session at once.
      await eventually('node-2 gone from the route', 30_000, () => {
        const h = routerNextHops(ip);
        return h.length === 2 && !h.includes('198.18.0.12') ? true : undefined;
      }, 200);
      kubectl('delete', 'service', 'web', '-n', ns);
      await eventually('the route withdrawn', 30_000, () => (routerNextHops(ip).length === 0 ? true : undefined), 300);
      await restartSpeaker(2);
    });

    // TCP MD5, BFD and graceful restart: each test sets the router's configuration it
    // needs first and restores the suite's at the end.

    it('sessions come up only when the password from the BGPPeer passwordSecret matches the router\'s', async () => {
      // The router now requires a password on every session.
      R.configure(nodes, { password: 'lab-md5-secret' });
      const peer = (secret: string) => `apiVersion: v1
kind: Secret
metadata: {name: router-password, namespace: metallb-system}
type: kubernetes.io/basic-auth
stringData: {password: ${secret}}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec:
  myASN: 64513
  peerASN: 64512
  peerAddress: 198.18.0.1
  holdTime: 9s
  passwordSecret: {name: router-password, namespace: metallb-system}
`;
      applyYaml(peer('not-the-password'));
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal([...R.sessions().values()].some(Boolean), false, 'a wrong password gets no session');
      applyYaml(peer('lab-md5-secret'));
      await eventually('three Established sessions', 40_000, () => {
        return established(...NODE_IPS) || undefined;
      }, 500);
      kubectl('delete', 'secret', 'router-password', '-n', 'metallb-system');
      await restore();
    });


    // GoBGP has no BFD: the test exists only for the routers that do (docs/BGP.md).
    if (control.bfd) it('BFD comes up with each node; a node cut off loses its path in about a second, well inside the 9 s hold time', async (t) => {
      R.configure(nodes, { bfd: true });
      applyYaml(`apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3}
`);
      const { ns, ip } = await everyPathService('bfd', '{myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 90s, bfdProfile: fast}');
      await eventually('BFD Up with every node', 30_000, () => {
        const up = R.bfdUp();
        return NODE_IPS.every((a) => up.includes(a)) ? true : undefined;
      }, 300);
      const t0 = performance.now();
      spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', 'node-1', 'down'], { timeout: 5000 });
      await eventually('node-1\'s path gone', 10_000, () => {
        const h = routerNextHops(ip);
        return h.length === 2 && !h.includes('198.18.0.11') ? true : undefined;
      }, 50);
      const took = performance.now() - t0;
      t.diagnostic(`BFD: the router dropped the cut-off node's path after ${took.toFixed(0)} ms (the negotiated BGP hold time is 9 s)`);
      assert.ok(took < 5000, `took ${took.toFixed(0)} ms`);
      spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', 'node-1', 'up'], { timeout: 5000 });
      kubectl('delete', 'namespace', ns, '--wait=false');
      kubectl('delete', 'bfdprofile', 'fast', '-n', 'metallb-system');
      await restore();
    });


    it('a speaker restarting (SIGTERM, then started again) keeps its path at the router throughout, unless its node is drained; without graceful restart it is withdrawn', async () => {
      R.configure(nodes, {});
      const { ns: grNs, ip } = await everyPathService('gr', '{myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 9s, enableGracefulRestart: true}');
      await eventually('node-1 advertising graceful restart', 30_000, () => (R.capabilities('198.18.0.11').includes('graceful-restart') ? true : undefined), 500);

      // Graceful: the router keeps node-1's path, stale, while the speaker is away.
      await stopSpeaker(1, 'SIGTERM');
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(routerNextHops(ip), NODE_IPS, `node-1's path kept during the restart (${i * 300} ms)`);
      }
      await restartSpeaker(1);
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(routerNextHops(ip), NODE_IPS, 'every path after the restart (stale ones refreshed, none flushed)');

      // A drained (cordoned) node going down is no restart: marked, then withdrawn, not kept stale.
      kubectl('cordon', 'node-3');
      try {
        await new Promise((r) => setTimeout(r, 500)); // the speaker's Node cache sees it
        const stopped = stopSpeaker(3, 'SIGTERM');
        const seen = await pathUntilGone(ip, '198.18.0.13', 30_000);
        await stopped;
        assert.ok(seen.some((p) => p.communities.includes(GRACEFUL_SHUTDOWN)), `marked before it went (saw ${JSON.stringify(seen.slice(-3))})`);
      } finally {
        kubectl('uncordon', 'node-3');
      }
      await restartSpeaker(3);

      // The same peer without graceful restart: a stopping speaker withdraws at once.
      applyYaml(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 9s, enableGracefulRestart: false}
`);
      await eventually('every session replaced by one without graceful restart', 30_000, () => {
        const replaced = NODE_IPS.every((p) => {
          const caps = R.capabilities(p);
          return caps.length > 0 && !caps.includes('graceful-restart');
        });
        return replaced && routerNextHops(ip).length === 3 ? true : undefined;
      }, 300);
      await stopSpeaker(2, 'SIGTERM');
      await eventually('node-2 withdrawn', 5_000, () => {
        const h = routerNextHops(ip);
        return h.length === 2 && !h.includes('198.18.0.12') ? true : undefined;
      }, 100);
      await restartSpeaker(2);
      kubectl('delete', 'namespace', grNs, '--wait=false');
      await restore();
    });
  });
}

for (const kind of routerKinds) routerSuites(kind);
