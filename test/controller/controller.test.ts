// The controller against the lab's real kube-apiserver, with its own identity and the
// RBAC in deploy/rbac: user stories from the tutorial and from running it for real.
import { it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { useLab, labBin, kubectl, labOk, eventually, freshNamespace, sleep, describeLab } from '../helpers/lab.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { restartApiserver } from '../helpers/faults.ts';
import { installFerrolb, startController, FAST_ELECTION, type FerrolbProcess } from '../helpers/ferrolb.ts';

const METRICS = '127.0.0.1:17472';
/** The controller most tests talk to, with metrics on METRICS. */
const startMain = () => startController([...FAST_ELECTION, '--metrics-addr', METRICS]);
const tmp = mkdtempSync(join(tmpdir(), 'ferrolb-ctl-'));
let fileCounter = 0;

function apply(yaml: string): void {
  const file = join(tmp, `apply-${++fileCounter}.yaml`);
  writeFileSync(file, yaml);
  kubectl('apply', '-f', file);
}

function pool(name: string, addresses: string[], extra = ''): string {
  return `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ${name}, namespace: metallb-system}
spec:
  addresses: [${addresses.map((a) => JSON.stringify(a)).join(', ')}]
${extra}
---
`;
}

function lbService(ns: string, name: string, annotations: Record<string, string> = {}, port = 80): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
  annotations: ${JSON.stringify(annotations)}
spec:
  type: LoadBalancer
  selector: {app: ${name}}
  ports: [{port: ${port}, protocol: TCP}]
---
`;
}

interface SvcList {
  items: { metadata: { name: string; annotations?: Record<string, string> }; status?: { loadBalancer?: { ingress?: { ip: string }[] } } }[];
}

/**
 * What the tests read goes through one in-process client, as admin: a poll costs a
 * request, not a `lab/lab kubectl` process (about a second each on a loaded machine),
 * so each wait ends as soon as the controller has written. What the user does (apply,
 * expose, label, delete) stays kubectl.
 */
let admin: KubeClient;

async function ingress(ns: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of (await admin.list<SvcList['items'][number]>(`/api/v1/namespaces/${ns}/services`)).items) {
    out.set(s.metadata.name, (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).join(','));
  }
  return out;
}

async function events(ns: string, name: string): Promise<{ reason: string; count?: number }[]> {
  return (await admin.list<{ reason: string; count?: number }>(`/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items;
}

async function reasons(ns: string, name: string): Promise<string[]> {
  return (await events(ns, name)).map((e) => e.reason);
}

/**
 * Creates LoadBalancer services (lbService's, without annotations), 16 requests at once:
 * a kubectl apply of 200 sends them one by one, a GET and a POST each, and its time is
 * not what a test of the controller measures.
 */
async function createServices(ns: string, names: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let i = next++; i < names.length; i = next++) {
      const name = names[i]!;
      await admin.create(`/api/v1/namespaces/${ns}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns },
        spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }] },
      });
    }
  }));
}

function metallbObject<T>(plural: string, name: string): Promise<T> {
  return admin.get<T>(`/apis/metallb.io/v1beta1/namespaces/metallb-system/${plural}/${name}`);
}

const namespaces: string[] = [];
/** A namespace for one test; its services are deleted after the test (the lab runs no
 * namespace controller, so deleting the namespace itself would not remove them). */
function testNamespace(prefix: string): string {
  const ns = freshNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

function resetConfig(): void {
  kubectl('delete', 'ipaddresspools,l2advertisements', '--all', '-n', 'metallb-system', '--ignore-not-found');
}

describeLab('controller against the real API server', () => {
  useLab({ up: ['--nodes', '1'] });
  let controller: FerrolbProcess;
  before(() => {
    installFerrolb();
    admin = KubeClient.load(labOk(['kubeconfig', 'admin']).trim());
    controller = startMain();
  });
  after(async () => {
    await controller?.stop();
    admin?.close();
  });
  afterEach(async () => {
    // kubectl deletes one object at a time (300 services: a minute); 16 at once here.
    for (const ns of namespaces.splice(0)) {
      const names = (await admin.list<{ metadata: { name: string } }>(`/api/v1/namespaces/${ns}/services`)).items.map((s) => s.metadata.name);
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let i = next++; i < names.length; i = next++) await admin.delete(`/api/v1/namespaces/${ns}/services/${names[i]}`);
      }));
    }
  });

  it("the tutorial's steps #6-#12: pending without a pool; .203 and .204; a released IP goes to the next service", async () => {
    resetConfig();
    const ns = testNamespace('tutorial');
    labOk(['deploy', 'my-nginx', '--namespace', ns]);
    kubectl('expose', 'deployment', 'my-nginx', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
    await eventually('AllocationFailed on my-nginx', 20_000, async () => ((await reasons(ns, 'my-nginx')).includes('AllocationFailed') ? true : undefined));
    assert.equal((await ingress(ns)).get('my-nginx'), '', 'pending: no EXTERNAL-IP without a pool');

    apply(pool('first-pool', ['198.18.0.203-198.18.0.250']) + `apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec:
  ipAddressPools: [first-pool]
`);
    await eventually('my-nginx gets 198.18.0.203', 20_000, async () => ((await ingress(ns)).get('my-nginx') === '198.18.0.203' ? true : undefined));
    labOk(['deploy', 'hostname-deployment', '--replicas', '3', '--namespace', ns]);
    kubectl('expose', 'deployment', 'hostname-deployment', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
    await eventually('hostname-deployment gets 198.18.0.204', 20_000, async () => ((await ingress(ns)).get('hostname-deployment') === '198.18.0.204' ? true : undefined));

    const svc = await admin.get<{ metadata: { annotations: Record<string, string> } }>(`/api/v1/namespaces/${ns}/services/my-nginx`);
    assert.equal(svc.metadata.annotations['metallb.io/ip-allocated-from-pool'], 'first-pool');
    assert.ok((await reasons(ns, 'my-nginx')).includes('IPAllocated'));
    await eventually('pool status counts', 20_000, async () => {
      const p = await metallbObject<{ status?: { assignedIPv4?: number; availableIPv4?: number } }>('ipaddresspools', 'first-pool');
      return p.status?.assignedIPv4 === 2 && p.status.availableIPv4 === 46 ? true : undefined;
    });

    kubectl('delete', 'service', 'my-nginx', '-n', ns);
    apply(lbService(ns, 'next'));
    await eventually('the next service gets the released 198.18.0.203', 20_000, async () => ((await ingress(ns)).get('next') === '198.18.0.203' ? true : undefined));
  });

  it('restart stability: 200 services keep their IPs; a kill mid-burst holds no IP twice', async (t) => {
    const t0 = Date.now();
    const phase = (what: string) => t.diagnostic(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    resetConfig();
    apply(pool('big', ['198.18.1.0/24', '198.18.0.200-198.18.0.254']));
    const ns = testNamespace('restart');
    await createServices(ns, Array.from({ length: 200 }, (_, i) => `s${i}`));
    phase('200 created');
    const first = await eventually('200 services assigned', 60_000, async () => {
      const m = await ingress(ns);
      return [...m.values()].filter((v) => v !== '').length === 200 ? m : undefined;
    });
    phase('200 assigned');
    await controller.stop('SIGKILL');
    controller = startMain();
    apply(lbService(ns, 'after-restart'));
    const second = await eventually('after-restart assigned', 30_000, async () => {
      const m = await ingress(ns);
      return m.get('after-restart') ? m : undefined;
    });
    for (const [name, ip] of first) assert.equal(second.get(name), ip, `${name} moved after a restart`);
    assert.ok(![...first.values()].includes(second.get('after-restart')!), 'the new service got a free IP');

    phase('restarted, identical');
    // A burst of 100 creations with the controller killed in the middle of it.
    const burst = Array.from({ length: 100 }, (_, i) => lbService(ns, `b${i}`)).join('');
    const file = join(tmp, 'burst.yaml');
    writeFileSync(file, burst);
    const applying = new Promise<void>((resolve, reject) =>
      spawn(labBin, ['kubectl', 'apply', '-f', file], { stdio: 'ignore' }).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply exited ${code}`)))),
    );
    await sleep(1500);
    await controller.stop('SIGKILL');
    await applying;
    controller = startMain();
    const all = await eventually('all 301 assigned', 60_000, async () => {
      const m = await ingress(ns);
      return [...m.values()].filter((v) => v !== '').length === 301 ? m : undefined;
    });
    phase('all 301 assigned');
    const ips = [...all.values()];
    assert.equal(new Set(ips).size, ips.length, 'no IP is held twice');
    for (const [name, ip] of first) assert.equal(all.get(name), ip, `${name} moved`);
  });

  it('an invalid configuration leaves the last valid one in force and says why', async () => {
    resetConfig();
    apply(pool('good', ['198.18.1.0/28']));
    const ns = testNamespace('invalid');
    apply(lbService(ns, 'a'));
    await eventually('a assigned', 20_000, async () => ((await ingress(ns)).get('a') === '198.18.1.0' ? true : undefined));
    apply(pool('overlap', ['198.18.1.8/29']));
    await eventually('ConfigurationState Invalid', 20_000, async () => {
      const s = await metallbObject<{ status?: { result?: string; lastError?: string } }>('configurationstates', 'controller');
      return s.status?.result === 'Invalid' && /overlap/i.test(s.status.lastError ?? '') ? true : undefined;
    });
    apply(lbService(ns, 'b'));
    await eventually('b assigned from the last valid configuration', 20_000, async () => ((await ingress(ns)).get('b') === '198.18.1.1' ? true : undefined));
    assert.equal((await ingress(ns)).get('a'), '198.18.1.0');
    kubectl('delete', 'ipaddresspool', 'overlap', '-n', 'metallb-system');
    await eventually('ConfigurationState Valid again', 20_000, async () => {
      const s = await metallbObject<{ status?: { result?: string } }>('configurationstates', 'controller');
      return s.status?.result === 'Valid' ? true : undefined;
    });
  });

  it('shrinking a pool moves only the affected services (ClearAssignment); a new pool serves pending ones', async () => {
    resetConfig();
    apply(pool('shrink', ['198.18.1.0/29']));
    const ns = testNamespace('shrink');
    apply(lbService(ns, 'low') + lbService(ns, 'high', { 'metallb.io/loadBalancerIPs': '198.18.1.6' }));
    await eventually('both assigned', 20_000, async () => {
      const m = await ingress(ns);
      return m.get('low') === '198.18.1.0' && m.get('high') === '198.18.1.6' ? true : undefined;
    });
    apply(pool('shrink', ['198.18.1.0/30']));
    await eventually('high cleared and pending', 20_000, async () => ((await ingress(ns)).get('high') === '' && (await reasons(ns, 'high')).includes('ClearAssignment') ? true : undefined));
    assert.equal((await ingress(ns)).get('low'), '198.18.1.0', 'an unaffected service stays');
    apply(pool('more', ['198.18.1.4/30']));
    await eventually('high assigned again from the new pool', 20_000, async () => ((await ingress(ns)).get('high') === '198.18.1.6' ? true : undefined));
  });

  it('garbage annotations: clear events, nothing crashes, valid assignments untouched', async () => {
    resetConfig();
    apply(pool('g', ['198.18.1.0/28']));
    const ns = testNamespace('garbage');
    apply(lbService(ns, 'valid'));
    await eventually('valid assigned', 20_000, async () => ((await ingress(ns)).get('valid') === '198.18.1.0' ? true : undefined));
    apply(
      lbService(ns, 'bad-ip', { 'metallb.io/loadBalancerIPs': '198.18.1.999' }) +
        lbService(ns, 'three', { 'metallb.io/loadBalancerIPs': '198.18.1.1,198.18.1.2,198.18.1.3' }) +
        lbService(ns, 'v6', { 'metallb.io/loadBalancerIPs': '2001:db8::1' }) +
        lbService(ns, 'nopool', { 'metallb.io/address-pool': 'does-not-exist' }) +
        lbService(ns, 'legacy', { 'metallb.universe.tf/loadBalancerIPs': '198.18.1.9' }),
    );
    await eventually('events for every bad service', 20_000, async () =>
      (await reasons(ns, 'bad-ip')).includes('LoadBalancerFailed') && (await reasons(ns, 'three')).includes('LoadBalancerFailed') && (await reasons(ns, 'v6')).includes('LoadBalancerFailed') && (await reasons(ns, 'nopool')).includes('AllocationFailed') ? true : undefined,
    );
    await eventually('legacy annotation honoured with a deprecation warning', 20_000, async () => ((await ingress(ns)).get('legacy') === '198.18.1.9' && (await reasons(ns, 'legacy')).includes('deprecatedAnnotation') ? true : undefined));
    assert.equal((await ingress(ns)).get('valid'), '198.18.1.0');
    assert.equal(controller.proc.exitCode, null, 'the controller is still running');
  });

  it('rules users rely on: sharing, requested IPs, autoAssign false, avoidBuggyIPs, loadBalancerClass', async () => {
    resetConfig();
    apply(
      pool('auto', ['198.18.1.0/30'], '  avoidBuggyIPs: true') +
        pool('manual', ['198.18.1.8/30'], '  autoAssign: false'),
    );
    const ns = testNamespace('rules');
    const other = testNamespace('rules-other');
    apply(
      lbService(ns, 'first') +
        lbService(ns, 'dns', { 'metallb.io/allow-shared-ip': 'k' }, 53) +
        lbService(other, 'web', { 'metallb.io/allow-shared-ip': 'k' }, 80) +
        lbService(ns, 'by-field', {}, 80).replace('type: LoadBalancer', 'type: LoadBalancer\n  loadBalancerIP: 198.18.1.9') +
        lbService(ns, 'by-pool', { 'metallb.io/address-pool': 'manual' }) +
        lbService(ns, 'buggy', { 'metallb.io/loadBalancerIPs': '198.18.1.0' }) +
        lbService(ns, 'classy').replace('type: LoadBalancer', 'type: LoadBalancer\n  loadBalancerClass: example.com/other'),
    );
    await eventually('assignments', 30_000, async () => {
      const a = await ingress(ns);
      const b = await ingress(other);
      return a.get('first') === '198.18.1.1' && a.get('dns') === '198.18.1.2' && b.get('web') === '198.18.1.2' && a.get('by-field') === '198.18.1.9' && a.get('by-pool') === '198.18.1.8' ? true : undefined;
    });
    await eventually('buggy refused', 20_000, async () => ((await reasons(ns, 'buggy')).includes('AllocationFailed') ? true : undefined));
    assert.equal((await ingress(ns)).get('buggy'), '');
    assert.equal((await ingress(ns)).get('classy'), '', 'another class is not ours');
    assert.deepEqual(await reasons(ns, 'classy'), []);
  });

  it('serviceAllocation follows namespace labels changed at run time', async () => {
    resetConfig();
    apply(pool('general', ['198.18.1.0/30']) + pool('team-a', ['198.18.1.16/30'], '  serviceAllocation:\n    priority: 1\n    namespaceSelectors: [{matchLabels: {team: a}}]'));
    const ns = testNamespace('labels');
    apply(lbService(ns, 'svc'));
    await eventually('general pool first', 20_000, async () => ((await ingress(ns)).get('svc') === '198.18.1.0' ? true : undefined));
    kubectl('label', 'namespace', ns, 'team=a');
    apply(lbService(ns, 'later'));
    await eventually('a new service of the labelled namespace gets the team pool', 20_000, async () => ((await ingress(ns)).get('later') === '198.18.1.16' ? true : undefined));
    assert.equal((await ingress(ns)).get('svc'), '198.18.1.0', 'a valid assignment never moves');
  });

  it('dual stack: RequireDualStack, PreferDualStack and an IPv6 SingleStack service', async () => {
    resetConfig();
    apply(pool('dual', ['198.18.1.0/30', '2001:db8:1::/126']) + pool('v4only', ['198.18.2.0/30']));
    const ns = testNamespace('dual');
    const withFamilies = (name: string, policy: string, families: string[]) =>
      lbService(ns, name, { 'metallb.io/address-pool': name === 'pref-v4pool' ? 'v4only' : 'dual' }).replace(
        'type: LoadBalancer',
        `type: LoadBalancer\n  ipFamilyPolicy: ${policy}\n  ipFamilies: [${families.join(', ')}]`,
      );
    apply(
      withFamilies('require', 'RequireDualStack', ['IPv6', 'IPv4']) +
        withFamilies('prefer', 'PreferDualStack', ['IPv4', 'IPv6']) +
        withFamilies('v6', 'SingleStack', ['IPv6']) +
        withFamilies('pref-v4pool', 'PreferDualStack', ['IPv4', 'IPv6']),
    );
    await eventually('dual-stack assignments', 30_000, async () => {
      const m = await ingress(ns);
      return m.get('require') === '2001:db8:1::,198.18.1.0' && m.get('prefer') === '198.18.1.1,2001:db8:1::1' && m.get('v6') === '2001:db8:1::2' && m.get('pref-v4pool') === '198.18.2.0' ? true : undefined;
    });
  });

  it('the API server restarted mid-run: the controller carries on', async () => {
    resetConfig();
    apply(pool('survive', ['198.18.1.0/28']));
    const ns = testNamespace('apirestart');
    apply(lbService(ns, 'before'));
    await eventually('before assigned', 20_000, async () => ((await ingress(ns)).get('before') === '198.18.1.0' ? true : undefined));
    await restartApiserver(2000);
    await eventually('API server back', 60_000, async () => ((await admin.get('/version')) ? true : undefined), 500);
    apply(lbService(ns, 'after'));
    await eventually('after assigned by the same controller', 30_000, async () => ((await ingress(ns)).get('after') === '198.18.1.1' ? true : undefined));
    assert.equal(controller.proc.exitCode, null, 'the controller did not exit');
  });

  it('metrics and health on --metrics-addr; a repeated event bumps one Event instead of creating more', async () => {
    resetConfig();
    apply(pool('observed', ['198.18.1.0/30']));
    const ns = testNamespace('observe');
    apply(lbService(ns, 'ok') + lbService(ns, 'typo', { 'metallb.io/loadBalancerIPs': 'not-an-ip' }));
    await eventually('ok assigned', 20_000, async () => ((await ingress(ns)).get('ok') === '198.18.1.0' ? true : undefined));
    const metrics = await eventually('metrics show the pool in use', 20_000, async () => {
      const text = await (await fetch(`http://${METRICS}/metrics`)).text();
      return /ferrolb_allocator_addresses_in_use_total\{pool="observed"\} 1\b/.test(text) ? text : undefined;
    });
    assert.match(metrics, /^ferrolb_k8s_client_config_loaded_bool 1$/m);
    assert.match(metrics, /^ferrolb_k8s_client_config_stale_bool 0$/m);
    assert.match(metrics, /^ferrolb_controller_leader_bool 1$/m);
    assert.match(metrics, /^ferrolb_k8s_client_request_duration_seconds_count\{verb="PATCH",code="200"\} \d+$/m);
    assert.equal((await fetch(`http://${METRICS}/healthz`)).status, 200);
    for (let i = 0; i < 3; i++) kubectl('label', 'service', 'typo', '-n', ns, `round=${i}`, '--overwrite');
    const counted = await eventually('one LoadBalancerFailed event counted 4 times', 20_000, async () => {
      const failed = (await events(ns, 'typo')).filter((e) => e.reason === 'LoadBalancerFailed');
      return failed.length === 1 && failed[0]!.count === 4 ? failed : undefined;
    });
    assert.equal(counted.length, 1);
  });

  it('a pool deleted under load: its services are cleared with events, the others untouched, nothing crashes', async () => {
    resetConfig();
    apply(pool('doomed', ['198.18.1.0/26'], '  autoAssign: false') + pool('steady', ['198.18.1.64/26'], '  autoAssign: false'));
    const ns = testNamespace('underload');
    apply(
      Array.from({ length: 40 }, (_, i) => lbService(ns, `d${i}`, { 'metallb.io/address-pool': 'doomed' })).join('') +
        Array.from({ length: 10 }, (_, i) => lbService(ns, `s${i}`, { 'metallb.io/address-pool': 'steady' })).join(''),
    );
    const before = await eventually('50 assigned', 30_000, async () => {
      const m = await ingress(ns);
      return [...m.values()].filter((v) => v !== '').length === 50 ? m : undefined;
    });
    // Delete the pool while another 30 services of it are being created.
    const burst = join(tmp, 'underload.yaml');
    writeFileSync(burst, Array.from({ length: 30 }, (_, i) => lbService(ns, `late${i}`, { 'metallb.io/address-pool': 'doomed' })).join(''));
    const creating = new Promise<void>((resolve, reject) =>
      spawn(labBin, ['kubectl', 'apply', '-f', burst], { stdio: 'ignore' }).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply exited ${code}`)))),
    );
    kubectl('delete', 'ipaddresspool', 'doomed', '-n', 'metallb-system');
    await creating;
    await eventually('every service of the deleted pool pending, with a clear event', 30_000, async () => {
      const m = await ingress(ns);
      const doomed = [...m].filter(([n]) => n.startsWith('d') || n.startsWith('late'));
      return doomed.length === 70 && doomed.every(([, ip]) => ip === '') ? true : undefined;
    });
    assert.ok((await reasons(ns, 'd0')).includes('ClearAssignment'));
    assert.ok((await reasons(ns, 'late0')).includes('AllocationFailed'));
    const after = await ingress(ns);
    for (let i = 0; i < 10; i++) assert.equal(after.get(`s${i}`), before.get(`s${i}`), `s${i} untouched`);
    assert.equal(controller.proc.exitCode, null, 'the controller is still running');
  });

  it('two replicas: only the leader writes; the other takes over when the leader is killed', async () => {
    await controller.stop();
    resetConfig();
    apply(pool('ha', ['198.18.1.0/28']));
    const fast = ['--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '0.5s'];
    const a = startController(fast);
    await eventually('a leads', 20_000, () => (a.output().includes('started leading') ? true : undefined));
    const b = startController(fast);
    const ns = testNamespace('ha');
    apply(lbService(ns, 'one'));
    await eventually('one assigned', 20_000, async () => ((await ingress(ns)).get('one') === '198.18.1.0' ? true : undefined));
    assert.ok(!b.output().includes('started leading'), 'b does not lead while a renews');
    await a.stop('SIGKILL');
    await eventually('b takes over', 20_000, () => (b.output().includes('started leading') ? true : undefined));
    apply(lbService(ns, 'two'));
    await eventually('two assigned by b', 20_000, async () => ((await ingress(ns)).get('two') === '198.18.1.1' ? true : undefined));
    await b.stop();
    controller = startMain();
  });
});
