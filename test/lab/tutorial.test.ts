// The lab proves itself against the tutorial it reproduces (steps #2, #9 and #11 of
// the MetalLB tutorial, without a load balancer installed), and against what a load
// balancer under test relies on: ClusterIPs, truthful EndpointSlices, cut links, and
// the identities its controller and speaker will use.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { curlFrom, eventually, freshNamespace, kubectl, kubectlJson, lab, labOk, useLab, describeLab } from '../helpers/lab.ts';

const nodes = ['node-1', 'node-2', 'node-3'];
const nodeIp: Record<string, string> = { 'node-1': '198.18.0.11', 'node-2': '198.18.0.12', 'node-3': '198.18.0.13' };

interface Service {
  spec: { type: string; clusterIP: string; ports: { port: number; nodePort?: number }[] };
  status?: { loadBalancer?: { ingress?: unknown[] } };
}
interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string }; status: { podIP?: string; conditions?: { type: string; status: string }[] } }[];
}
interface SliceList {
  items: { metadata: { labels: Record<string, string> }; endpoints: { addresses: string[]; conditions: { ready: boolean; serving: boolean }; targetRef: { name: string } }[] | null }[];
}

function podNames(ns: string, app: string): string[] {
  return kubectlJson<PodList>('get', 'pods', '-n', ns, '-l', `app=${app}`).items.map((p) => p.metadata.name).sort();
}

/** Requests until every expected answer has been seen; bounded in count. */
function answersUntilAll(host: string, url: string, expected: string[], maxRequests: number): { seen: Set<string>; answers: string[] } {
  const seen = new Set<string>();
  const answers: string[] = [];
  for (let i = 0; i < maxRequests && seen.size < expected.length; i++) {
    const a = curlFrom(host, url);
    answers.push(a ?? '<no answer>');
    if (a !== undefined) seen.add(a);
  }
  return { seen, answers };
}

describeLab('the lab reproduces the tutorial', () => {
  useLab({ up: ['--nodes', '3'] });

  it('has three Ready nodes with their LAN addresses and hostname labels', () => {
    const list = kubectlJson<{ items: { metadata: { name: string; labels: Record<string, string> }; status: { addresses: { type: string; address: string }[]; conditions: { type: string; status: string }[] } }[] }>('get', 'nodes');
    assert.deepEqual(list.items.map((n) => n.metadata.name).sort(), nodes);
    for (const n of list.items) {
      assert.equal(n.metadata.labels['kubernetes.io/hostname'], n.metadata.name);
      assert.ok(n.status.addresses.some((a) => a.type === 'InternalIP' && a.address === nodeIp[n.metadata.name]), `${n.metadata.name} InternalIP`);
      assert.equal(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    }
  });

  it('step #2: a LoadBalancer Service stays pending while its NodePort answers on every node, from every pod in turn', async () => {
    const ns = freshNamespace('tutorial');
    labOk(['deploy', 'hostname-deployment', '--replicas', '3', '--namespace', ns]);
    kubectl('expose', 'deployment', 'hostname-deployment', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
    const pods = podNames(ns, 'hostname-deployment');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.match(p, /^hostname-deployment-[a-z0-9]{10}-[a-z0-9]{5}$/);

    const svc = kubectlJson<Service>('get', 'service', 'hostname-deployment', '-n', ns);
    assert.equal(svc.spec.type, 'LoadBalancer');
    const nodePort = svc.spec.ports[0]?.nodePort;
    assert.ok(nodePort && nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);

    // Step #9: through kube-proxy on any node. Step #11: each pod answers in turn.
    for (const node of nodes) {
      const url = `http://${nodeIp[node]}:${nodePort}`;
      const first = await eventually(`an answer from ${url}`, 10_000, () => curlFrom('client', url));
      assert.ok(pods.includes(first), `answer "${first}" is a pod name`);
      const { seen, answers } = answersUntilAll('client', url, pods, 60);
      assert.deepEqual([...seen].sort(), pods, `pods reached through ${node}: ${answers.join(', ')}`);
      assert.ok(answers.every((a) => pods.includes(a)), `every answer names a pod: ${answers.join(', ')}`);
    }

    // No load balancer is installed: nothing may have given the Service an address.
    const later = kubectlJson<Service>('get', 'service', 'hostname-deployment', '-n', ns);
    assert.deepEqual(later.status?.loadBalancer?.ingress ?? [], []);
    assert.match(kubectl('get', 'service', 'hostname-deployment', '-n', ns), /<pending>/);
  });

  it('reaches a ClusterIP from every node namespace', async () => {
    const ns = freshNamespace('clusterip');
    labOk(['deploy', 'web', '--replicas', '2', '--namespace', ns]);
    kubectl('expose', 'deployment', 'web', '--port', '8080', '--target-port', '80', '-n', ns);
    const svc = kubectlJson<Service>('get', 'service', 'web', '-n', ns);
    assert.match(svc.spec.clusterIP, /^198\.18\.(12[89]|1[3-9]\d|2[0-4]\d|25[0-5])\./, 'cluster IP inside 198.18.128.0/17');
    const pods = podNames(ns, 'web');
    for (const node of nodes) {
      const a = await eventually(`ClusterIP answer on ${node}`, 10_000, () => curlFrom(node, `http://${svc.spec.clusterIP}:8080`));
      assert.ok(pods.includes(a), `${node} got "${a}"`);
    }
  });

  it('takes a stopped pod out of service: not Ready, not ready in its EndpointSlice, no traffic', async () => {
    const ns = freshNamespace('notready');
    labOk(['deploy', 'flaky', '--replicas', '2', '--namespace', ns]);
    kubectl('expose', 'deployment', 'flaky', '--port', '80', '--type', 'NodePort', '-n', ns);
    const pods = podNames(ns, 'flaky');
    const [victim, survivor] = pods as [string, string];
    const nodePort = kubectlJson<Service>('get', 'service', 'flaky', '-n', ns).spec.ports[0]?.nodePort;
    const url = `http://198.18.0.11:${nodePort}`;
    await eventually('both pods answering', 15_000, () => (answersUntilAll('client', url, pods, 30).seen.size === 2 ? true : undefined));

    labOk(['pod', 'stop', victim, '--namespace', ns]);
    const slice = await eventually('the victim not ready in the EndpointSlice', 10_000, () => {
      const list = kubectlJson<SliceList>('get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=flaky');
      const eps = list.items.flatMap((s) => s.endpoints ?? []);
      const v = eps.find((e) => e.targetRef.name === victim);
      return v === undefined || !v.conditions.ready ? eps : undefined;
    });
    // The remaining pod is still a ready endpoint; the stopped one is not.
    assert.ok(slice.some((e) => e.targetRef.name === survivor && e.conditions.ready));
    assert.ok(!slice.some((e) => e.targetRef.name === victim && (e.conditions.ready || e.conditions.serving)));
    const pod = kubectlJson<PodList['items'][number]>('get', 'pod', victim, '-n', ns);
    assert.equal(pod.status.conditions?.find((c) => c.type === 'Ready')?.status, 'False');

    // kube-proxy follows the slice: every request now reaches the survivor.
    await eventually('kube-proxy to drop the victim', 10_000, () => (curlFrom('client', url) === survivor ? true : undefined));
    for (let i = 0; i < 20; i++) assert.equal(curlFrom('client', url), survivor, `request ${i}`);

    // Deleting the Deployment deletes its pods, and the slice empties.
    kubectl('delete', 'deployment', 'flaky', '-n', ns);
    await eventually('pods gone with their deployment', 15_000, () => (podNames(ns, 'flaky').length === 0 ? true : undefined));
  });

  it('honours externalTrafficPolicy Local: only the pod\'s node answers, with the client\'s own address', async () => {
    const ns = freshNamespace('local');
    labOk(['deploy', 'web', '--replicas', '1', '--namespace', ns]);
    kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
    kubectl('patch', 'service', 'web', '-n', ns, '-p', '{"spec":{"externalTrafficPolicy":"Local"}}');
    const svc = kubectlJson<Service & { spec: { healthCheckNodePort?: number } }>('get', 'service', 'web', '-n', ns);
    const nodePort = svc.spec.ports[0]?.nodePort;
    const hc = svc.spec.healthCheckNodePort;
    assert.ok(hc, 'a LoadBalancer with Local policy gets a healthCheckNodePort');
    const pods = kubectlJson<PodList>('get', 'pods', '-n', ns, '-l', 'app=web').items;
    assert.equal(pods.length, 1);
    const home = pods[0]!.spec.nodeName!;
    const pod = pods[0]!.metadata.name;
    assert.equal(await eventually(`an answer via ${home}`, 10_000, () => curlFrom('client', `http://${nodeIp[home]}:${nodePort}`)), pod);
    // No SNAT on the Local path: the pod sees the client itself.
    assert.equal(curlFrom('client', `http://${nodeIp[home]}:${nodePort}/source`), '198.18.0.2');
    for (const node of nodes.filter((n) => n !== home)) {
      assert.equal(curlFrom('client', `http://${nodeIp[node]}:${nodePort}`), undefined, `${node} has no local endpoint and drops`);
    }
    // kube-proxy's health check answers 200 only where a local endpoint is ready: what
    // a cloud load balancer (or ferrolb's speaker election) keys on.
    const code = (node: string) => lab(['exec', 'client', 'curl', '-s', '-o', '/dev/null', '-m', '2', '-w', '%{http_code}', `http://${nodeIp[node]}:${hc}/`], 10_000).stdout.trim();
    assert.equal(await eventually(`health check 200 on ${home}`, 10_000, () => (code(home) === '200' ? '200' : undefined)), '200');
    for (const node of nodes.filter((n) => n !== home)) assert.equal(code(node), '503', `health check on ${node}`);
  });

  it('cuts and restores a host\'s LAN link', async () => {
    const ns = freshNamespace('link');
    labOk(['deploy', 'web', '--replicas', '1', '--namespace', ns]);
    kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'NodePort', '-n', ns);
    const nodePort = kubectlJson<Service>('get', 'service', 'web', '-n', ns).spec.ports[0]?.nodePort;
    const pod = podNames(ns, 'web')[0];
    const url = `http://198.18.0.12:${nodePort}`;
    assert.equal(await eventually('an answer via node-2', 10_000, () => curlFrom('client', url)), pod);
    labOk(['link', 'node-2', 'down']);
    try {
      assert.equal(curlFrom('client', url), undefined, 'no answer through a cut link');
    } finally {
      labOk(['link', 'node-2', 'up']);
    }
    assert.equal(await eventually('an answer after the link is restored', 10_000, () => curlFrom('client', url)), pod);
  });

  it('gives the controller and speaker their ServiceAccount identities, not admin rights', () => {
    for (const who of ['controller', 'speaker']) {
      const kubeconfig = labOk(['kubeconfig', who]).trim();
      const review = JSON.parse(kubectl('--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json')) as { status: { userInfo: { username: string; groups: string[] } } };
      assert.equal(review.status.userInfo.username, `system:serviceaccount:metallb-system:${who}`);
      for (const g of ['system:serviceaccounts', 'system:serviceaccounts:metallb-system']) assert.ok(review.status.userInfo.groups.includes(g), `${who} in ${g}`);
      // Without the RBAC from deploy/ applied, the identity may do nothing.
      const denied = lab(['kubectl', '--kubeconfig', kubeconfig, 'get', 'services', '-A']);
      assert.notEqual(denied.status, 0);
      assert.match(denied.stderr, /forbidden/i);
    }
  });

  it('reaches the API server from inside a node namespace with the speaker identity', () => {
    // Speakers will run in node namespaces; the relay makes 127.0.0.1:16443 the API
    // server there too, with the same kubeconfig and certificate.
    const binDir = (JSON.parse(readFileSync('/run/ferrolb-lab/lab.json', 'utf8')) as { binDir: string }).binDir;
    const kubeconfig = labOk(['kubeconfig', 'speaker']).trim();
    for (const node of nodes) {
      const out = labOk(['exec', node, `${binDir}/kubectl`, '--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
      assert.equal(out.trim(), 'system:serviceaccount:metallb-system:speaker', node);
    }
  });

  it('resolves LAN neighbours with the kernel\'s own ARP and NDP', () => {
    for (const node of nodes) {
      const mac = labOk(['exec', node, 'cat', '/sys/class/net/eth0/address']).trim().toLowerCase();
      assert.match(mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const arp = labOk(['exec', 'client', 'arping', '-c', '1', '-w', '2', '-I', 'eth0', nodeIp[node]!]);
      assert.match(arp.toLowerCase(), new RegExp(`from ${mac} \\(${nodeIp[node]!.replaceAll('.', '\\.')}\\)`), `ARP reply for ${node}`);
      const v6 = `2001:db8:18::${nodeIp[node]!.split('.')[3]}`;
      const nd = labOk(['exec', 'client', 'ndisc6', '-1', '-r', '1', '-w', '1000', v6, 'eth0']);
      assert.match(nd.toLowerCase(), new RegExp(`target link-layer address: ${mac}`), `NDP advertisement for ${node}`);
    }
  });

  it('refuses bad input with one clear line and a non-zero exit', () => {
    const cases: [string[], RegExp][] = [
      [['exec', 'node-9', 'true'], /unknown host "node-9"; hosts: router, client, control, node-1, node-2, node-3/],
      [['link', 'nowhere', 'down'], /unknown host "nowhere"/],
      [['up'], /already up/],
      [['up', '--nodes', '0'], /--nodes must be a whole number from 1 to 16/],
      [['up', '--proxy-mode', 'userspace'], /--proxy-mode must be one of nftables, iptables, ipvs/],
      [['kubeconfig', 'root'], /unknown identity "root"/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = lab(args);
      assert.notEqual(r.status, 0, `lab ${args.join(' ')} exit status`);
      assert.match(r.stderr, message, `lab ${args.join(' ')}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    // The refused second `up` left the running lab alone.
    assert.match(labOk(['status']), /api server: ready/);
  });

  it('deletes a namespace completely (the lab plays the namespace controller)', async () => {
    const ns = freshNamespace('gone');
    labOk(['deploy', 'web', '--replicas', '1', '--namespace', ns]);
    kubectl('expose', 'deployment', 'web', '--port', '80', '-n', ns);
    kubectl('delete', 'namespace', ns, '--wait=false');
    await eventually(`namespace ${ns} gone`, 20_000, () => (lab(['kubectl', 'get', 'namespace', ns]).status !== 0 ? true : undefined), 300);
  });
});
