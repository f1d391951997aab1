// `ferrolb status` and `ferrolb doctor` against the lab's real API server, with the
// controller and a speaker per node running: what they print comes from what the
// components actually wrote (IPs, Events, ServiceL2Status, ConfigurationState), and the
// strictARP check reads kube-system/kube-proxy as the tutorial's step #4 edits it.
import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { eventually, freshNamespace, kubectl, labBin, labOk, repoDir, stateDir, useLab, describeLab } from '../helpers/lab.ts';
import { readFileSync } from 'node:fs';

const bin = join(repoDir, 'bin', 'ferrolb.js');
const env = { ...process.env, PATH: `${join(repoDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };

function ferrolb(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const kubeconfig = labOk(['kubeconfig', 'admin']).trim();
  const r = spawnSync(bin, [...args, '--kubeconfig', kubeconfig], { encoding: 'utf8', env, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function apply(yaml: string, ns?: string): void {
  const r = spawnSync(labBin, ['kubectl', 'apply', ...(ns ? ['-n', ns] : []), '-f', '-'], { input: yaml, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
}

/** The tutorial's step #4 pipeline, with `kubectl` being the lab's. */
function editKubeProxy(from: string, to: string): void {
  const yaml = kubectl('get', 'configmap', 'kube-proxy', '-n', 'kube-system', '-o', 'yaml').replace(from, to);
  apply(yaml, 'kube-system');
}

describeLab('status and doctor in the lab', () => {
  useLab({ up: ['--nodes', '2', '--ferrolb'] });
  let ns = '';
  before(() => {
    ns = freshNamespace('inspect');
  });

  it('before any pool: doctor warns that no service can get an IP, and passes the rest', async () => {
    // Speakers report their ConfigurationState once their caches have synced.
    const r = await eventually('every component reported', 20_000, () => {
      const out = ferrolb('doctor');
      return /ok\s+speakers\s+a speaker has reported from every node \(2\)/.test(out.stdout) && /ok\s+controller/.test(out.stdout) ? out : undefined;
    }, 500);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok\s+kube-proxy\s+kube-proxy mode nftables: strictARP is not needed$/m);
    assert.match(r.stdout, /^WARN\s+configuration\s+no IPAddressPool in namespace metallb-system/m);
  });

  it('a full pool, a pool nobody announces, and healthy services: each shown and judged', async () => {
    apply(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.201"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lonely, namespace: metallb-system}
spec: {addresses: ["198.18.1.0/28"], autoAssign: false}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: example, namespace: metallb-system}
spec: {ipAddressPools: [first-pool]}
`);
    labOk(['deploy', 'web', '--replicas', '2', '--namespace', ns]);
    for (const name of ['web-a', 'web-b', 'web-c']) kubectl('expose', 'deployment', 'web', '--name', name, '--port', '80', '--type', 'LoadBalancer', '-n', ns);
    apply(`apiVersion: v1
kind: Service
metadata: {name: web-lonely, namespace: ${ns}, annotations: {metallb.io/address-pool: lonely}}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
`);
    // The controller writes pool status at most once a second (debounced), so the counts
    // may trail the services by that much.
    const status = await eventually('both L2 services announced and the pools counted, in status', 20_000, () => {
      const out = ferrolb('status').stdout;
      const announced = out.split('\n').filter((l) => l.includes(ns) && /L2 node-[12] \(eth0\)/.test(l));
      return announced.length === 2 && /web-c\s+<pending>/.test(out) && /lonely\s+\S+\s+1\s/.test(out) ? out : undefined;
    }, 500);
    assert.match(status, /first-pool\s+198\.18\.0\.200-198\.18\.0\.201\s+2\s+0\s+L2:example/);
    assert.match(status, /lonely\s+198\.18\.1\.0\/28\s+1\s+15\s+\(none\)/);
    assert.match(status, new RegExp(`${ns}\\s+web-c\\s+<pending>\\s+pending: .*no available IPv4 address in pool "first-pool"`));
    assert.match(status, new RegExp(`${ns}\\s+web-lonely\\s+198\\.18\\.1\\.0\\s+lonely\\s+nobody: no L2Advertisement selects pool lonely`));

    const doctor = ferrolb('doctor');
    assert.equal(doctor.status, 1, 'doctor exits 1 when a check fails');
    assert.match(doctor.stdout, /^WARN\s+pools\s+pool lonely: no L2Advertisement or BGPAdvertisement selects it/m);
    assert.match(doctor.stdout, new RegExp(`^FAIL\\s+services\\s+${ns}/web-c has no IP: .*no available IPv4 address`, 'm'));
    assert.match(doctor.stdout, new RegExp(`^FAIL\\s+services\\s+${ns}/web-lonely \\(198\\.18\\.1\\.0\\) is announced by no node: no L2Advertisement selects pool lonely`, 'm'));
    assert.match(doctor.stdout, /2 problem\(s\), 1 warning\(s\)\n$/);

    const json = JSON.parse(ferrolb('status', '--output', 'json').stdout) as { services: { name: string; l2: { node: string }[] }[] };
    // -o yaml is the same data.
    assert.deepEqual(parse(ferrolb('status', '-o', 'yaml').stdout).services, json.services);
    const a = json.services.find((s) => s.name === 'web-a');
    assert.equal(a?.l2.length, 1);

    // Fixing it: an L2Advertisement for the pool, and deleting the service that cannot fit.
    apply(`apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lonely, namespace: metallb-system}
spec: {ipAddressPools: [lonely]}
`);
    kubectl('delete', 'service', 'web-c', '-n', ns);
    const fixed = await eventually('doctor passing', 20_000, () => {
      const r = ferrolb('doctor');
      return r.status === 0 ? r.stdout : undefined;
    }, 500);
    assert.match(fixed, /^ok\s+services\s+all \d+ LoadBalancer service\(s\) have an IP and are announced$/m);
  });

  it('kube-proxy switched to IPVS without strictARP fails; the tutorial\'s sed fixes it', () => {
    editKubeProxy('mode: nftables', 'mode: ipvs');
    const bad = ferrolb('doctor');
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^FAIL\s+kube-proxy\s+kube-proxy runs in IPVS mode without strictARP/m);
    editKubeProxy('strictARP: false', 'strictARP: true');
    const good = ferrolb('doctor');
    assert.match(good.stdout, /^ok\s+kube-proxy\s+kube-proxy mode ipvs with strictARP: true$/m);
    assert.equal(good.status, 0, good.stdout);
  });

  it('a BGP session that cannot connect: each speaker tells it on the BGPPeer with its code, and doctor names the code', async () => {
    // Nothing listens on port 1790 of the lab's router address: the connection fails.
    apply(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: nowhere, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, peerPort: 1790}
`);
    try {
      const findings = await eventually('doctor naming the session failure', 30_000, () => {
        const r = ferrolb('doctor', '-o', 'json');
        const bgp = (JSON.parse(r.stdout) as { check: string; severity: string; code?: string; message: string }[]).filter((f) => f.check === 'bgp');
        return bgp.length > 0 ? bgp : undefined;
      }, 1000);
      for (const f of findings) {
        assert.equal(f.severity, 'warn');
        assert.equal(f.code, 'EBGPCONNECTION');
        assert.match(f.message, /^the BGP session from node-\d to BGPPeer metallb-system\/nowhere failed \(\d+ time\(s\), last \S+\): EBGPCONNECTION: the session from node "node-\d": /);
      }
      const described = kubectl('get', 'events', '-n', 'metallb-system', '--field-selector', 'reason=BGPSessionFailed,involvedObject.name=nowhere', '-o', 'jsonpath={.items[*].message}');
      assert.match(described, /^EBGPCONNECTION: /);
    } finally {
      kubectl('delete', 'bgppeer', 'nowhere', '-n', 'metallb-system', '--ignore-not-found');
      // The Events would outlive the peer by an hour; the later checks start clean.
      kubectl('delete', 'events', '-n', 'metallb-system', '--field-selector', 'reason=BGPSessionFailed');
    }
  });

  it('a dead speaker is told from a live one: the other speaker reports it unheard; doctor fails naming it, status shows it', async () => {
    // Both speakers hear each other: doctor says so.
    await eventually('doctor: every speaker hears every other', 20_000, () => (/^ok\s+membership\s+every speaker hears every other \(2 reporting\)/m.test(ferrolb('doctor').stdout) ? true : undefined), 500);
    const pid = Number(readFileSync(join(stateDir, 'pids', 'ferrolb-speaker-node-2.pid'), 'utf8').trim());
    process.kill(pid, 'SIGKILL'); // no goodbye: as a crash or a node gone
    const doctor = await eventually('doctor naming node-2\'s speaker', 20_000, () => {
      const r = ferrolb('doctor');
      return /^FAIL\s+membership\s+the speaker on node-2 is not heard by node-1 since \S+: it is dead, frozen or cut off/m.test(r.stdout) ? r : undefined;
    }, 500);
    assert.equal(doctor.status, 1);
    // Its own ConfigurationState still says Valid: that is why the others' word is needed.
    assert.match(kubectl('get', 'configurationstate', 'speaker-node-2', '-n', 'metallb-system', '-o', 'jsonpath={.status.result}'), /^Valid$/);
    assert.match(ferrolb('status').stdout, /speaker-node-1\s+Valid\s+node-2/);
  });

  it('an unreachable API server: a clear error and exit 1, not a stack trace', () => {
    const r = spawnSync(bin, ['status', '--kubeconfig', '/nonexistent/kubeconfig'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^ferrolb status: cannot load kubeconfig \/nonexistent\/kubeconfig: /);
    const usage = spawnSync(bin, ['doctor', '--output', 'xml'], { encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--output must be one of table, wide, json, yaml, not "xml"/);
  });
});
