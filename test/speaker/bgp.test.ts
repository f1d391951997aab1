// BGP mode end to end, against each of the three routers users run most (lab/src/router.ts:
// BIRD 2, FRR, GoBGP, in the router namespace): ferrolb's speakers in the lab's nodes
// peer with it, announce each service IP from every eligible node, and the client
// reaches the service through the router's ECMP route (BIRD and FRR install routes;
// GoBGP's RIB is checked instead). Then TCP MD5, BFD (BIRD, FRR; GoBGP has none) and
// graceful restart against each. A router that is not installed skips its suites,
// except under CI=true, where that is a failure (describeLab).
import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describeLab, eventually, freshNamespace, kubectl, kubectlJson, lab, labBin, labOk, stateDir, useLab, type LabNeed } from '../helpers/lab.ts';
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

function apply(yaml: string): void {
  const r = spawnSync(labBin, ['kubectl', 'apply', '-f', '-'], { input: yaml, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
}

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
 * The two-node setups (MD5, BFD, graceful restart): the BGPPeer given, the BGP pool and
 * its advertisement, and a 2-replica deployment exposed as a LoadBalancer; resolves
 * with the service IP once the router has a path through both nodes.
 */
async function twoPathService(prefix: string, peerSpec: string): Promise<{ ns: string; ip: string }> {
  apply(`apiVersion: metallb.io/v1beta2
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
  labOk(['deploy', 'web', '--replicas', '2', '--namespace', ns]);
  kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
  const ip = await serviceIP(ns, 'web');
  await eventually('two paths', 30_000, () => (routerNextHops(ip).length === 2 ? true : undefined), 300);
  return { ns, ip };
}

async function serviceIP(ns: string, name: string): Promise<string> {
  return eventually(`an EXTERNAL-IP for ${ns}/${name}`, 20_000, () => {
    const svc = kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('get', 'service', name, '-n', ns);
    return svc.status?.loadBalancer?.ingress?.[0]?.ip;
  });
}

const NODE_IPS = ['198.18.0.11', '198.18.0.12', '198.18.0.13'];

function routerSuites(kind: (typeof routerKinds)[number]): void {
  const control = routerControl(kind);
  const needsRouter: LabNeed = () => (control.available() ? undefined : `${kind} is not installed (scripts/setup.sh installs it)`);

  describeLab(`BGP mode in the lab (${kind} as the router)`, { needs: [needsRouter] }, () => {
    before(() => {
      R = control;
    });
    useLab({ up: ['--nodes', '3', '--ferrolb', '--router', kind] });
    let ns = '';
    before(() => {
      apply(CONFIG);
      ns = freshNamespace('bgp');
      labOk(['deploy', 'web', '--replicas', '3', '--namespace', ns]);
    });

    it('every node establishes a session with the router', async () => {
      await eventually('three Established sessions', 30_000, () => {
        return established(...NODE_IPS) || undefined;
      }, 500);
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
      apply(`apiVersion: v1
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
      apply(`apiVersion: metallb.io/v1beta1
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
      apply(`apiVersion: metallb.io/v1beta1
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
    });
  });

  // TCP MD5, BFD and graceful restart share one two-node lab per router: each test sets the
  // router's configuration it needs first.
  describeLab(`BGP with TCP MD5 (RFC 2385), BFD (RFC 5880) and graceful restart (RFC 4724) against ${kind}`, { needs: [needsRouter] }, () => {
    before(() => {
      R = control;
    });
    useLab({ up: ['--nodes', '2', '--ferrolb', '--router', kind] });
    const nodes = [nodeHost(1), nodeHost(2)];

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
      apply(peer('not-the-password'));
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal([...R.sessions().values()].some(Boolean), false, 'a wrong password gets no session');
      apply(peer('lab-md5-secret'));
      await eventually('two Established sessions', 40_000, () => {
        return established('198.18.0.11', '198.18.0.12') || undefined;
      }, 500);
    });


    // GoBGP has no BFD: the test exists only for the routers that do (docs/BGP.md).
    if (control.bfd) it('BFD comes up with each node; a node cut off loses its path in about a second, well inside the 9 s hold time', async (t) => {
      R.configure(nodes, { bfd: true });
      apply(`apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3}
`);
      const { ns, ip } = await twoPathService('bfd', '{myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 90s, bfdProfile: fast}');
      await eventually('BFD Up with both nodes', 30_000, () => {
        const up = R.bfdUp();
        return ['198.18.0.11', '198.18.0.12'].every((a) => up.includes(a)) ? true : undefined;
      }, 300);
      const t0 = performance.now();
      spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', 'node-1', 'down'], { timeout: 5000 });
      await eventually('node-1\'s path gone', 10_000, () => {
        const h = routerNextHops(ip);
        return h.length === 1 && h[0] === '198.18.0.12' ? true : undefined;
      }, 50);
      const took = performance.now() - t0;
      t.diagnostic(`BFD: the router dropped the cut-off node's path after ${took.toFixed(0)} ms (the negotiated BGP hold time is 9 s)`);
      assert.ok(took < 5000, `took ${took.toFixed(0)} ms`);
      spawnSync('ip', ['-n', 'flb-lan', 'link', 'set', 'node-1', 'up'], { timeout: 5000 });
      kubectl('delete', 'namespace', ns, '--wait=false');
    });


    it('a speaker restarting (SIGTERM, then started again) keeps its path at the router throughout; without graceful restart it is withdrawn', async () => {
      R.configure(nodes, {});
      const { ip } = await twoPathService('gr', '{myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 9s, enableGracefulRestart: true}');
      await eventually('node-1 advertising graceful restart', 30_000, () => (R.capabilities('198.18.0.11').includes('graceful-restart') ? true : undefined), 500);

      const stopSpeaker = async (node: number, signal: NodeJS.Signals) => {
        const pid = Number(readFileSync(`${stateDir}/pids/ferrolb-speaker-node-${node}.pid`, 'utf8').trim());
        process.kill(pid, signal);
        await eventually(`speaker node-${node} gone`, 15_000, () => {
          try {
            process.kill(pid, 0);
            return undefined;
          } catch {
            return true;
          }
        }, 100);
      };
      // Graceful: the router keeps node-1's path, stale, while the speaker is away.
      await stopSpeaker(1, 'SIGTERM');
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(routerNextHops(ip), ['198.18.0.11', '198.18.0.12'], `node-1's path kept during the restart (${i * 300} ms)`);
      }
      startSpeaker(nodeHost(1));
      await eventually('node-1 Established again', 30_000, () => established('198.18.0.11') || undefined, 300);
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(routerNextHops(ip), ['198.18.0.11', '198.18.0.12'], 'both paths after the restart (stale ones refreshed, none flushed)');

      // The same peer without graceful restart: a stopping speaker withdraws at once.
      apply(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, holdTime: 9s, enableGracefulRestart: false}
`);
      await eventually('both sessions replaced by ones without graceful restart', 30_000, () => {
        const replaced = ['198.18.0.11', '198.18.0.12'].every((p) => {
          const caps = R.capabilities(p);
          return caps.length > 0 && !caps.includes('graceful-restart');
        });
        return replaced && routerNextHops(ip).length === 2 ? true : undefined;
      }, 300);
      await stopSpeaker(2, 'SIGTERM');
      await eventually('node-2 withdrawn', 5_000, () => {
        const h = routerNextHops(ip);
        return h.length === 1 && h[0] === '198.18.0.11' ? true : undefined;
      }, 100);
    });
  });
}

for (const kind of routerKinds) routerSuites(kind);
