import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from './main.ts';

const repo = new URL('../../', import.meta.url).pathname;

async function ferrolb(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: repo });
  return { code, out, err };
}

function files(contents: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferrolb-plan-'));
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
  return dir;
}

const POOL = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec:
  addresses: [198.18.1.0/30]
`;

describe('ferrolb plan', () => {
  it('the tutorial: my-nginx 10.0.0.3, hostname-deployment 10.0.0.4 (JSON)', async () => {
    const r = await ferrolb('plan', '--config', 'examples/tutorial/routing-config.yaml', '--services', 'examples/tutorial/services.yaml', '--output', 'json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      services: [
        { namespace: 'default', name: 'my-nginx', ips: ['10.0.0.3'], pool: 'first-pool', announcedBy: [{ kind: 'L2', name: 'example', nodes: 'every node' }] },
        { namespace: 'default', name: 'hostname-deployment', ips: ['10.0.0.4'], pool: 'first-pool', announcedBy: [{ kind: 'L2', name: 'example', nodes: 'every node' }] },
      ],
    });
    // The same as YAML with -o, and the announcing advertisement as a column with -o wide.
    const yaml = await ferrolb('plan', '--config', 'examples/tutorial/routing-config.yaml', '--services', 'examples/tutorial/services.yaml', '-o', 'yaml');
    assert.deepEqual(parse(yaml.out), JSON.parse(r.out));
    const wide = await ferrolb('plan', '--config', 'examples/tutorial/routing-config.yaml', '--services', 'examples/tutorial/services.yaml', '-owide');
    assert.match(wide.out, /^NAMESPACE\s+NAME\s+EXTERNAL-IP\s+POOL\s+ANNOUNCED-BY\s+NOTE\ndefault\s+my-nginx\s+10\.0\.0\.3\s+first-pool\s+L2 example \(every node\)\n/);
  });

  it('reports failures, skips, existing assignments and namespace labels', async () => {
    const dir = files({
      'config.yaml': POOL + `---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: team, namespace: metallb-system}
spec:
  addresses: [198.18.2.0/32]
  serviceAllocation:
    priority: 1
    namespaceSelectors: [{matchLabels: {team: a}}]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: zone-a, namespace: metallb-system}
spec:
  ipAddressPools: [p]
  nodeSelectors: [{matchLabels: {zone: a}}]
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: web, namespace: metallb-system}
spec:
  ipAddressPools: [p]
  peers: [r1]
  serviceSelectors: [{matchLabels: {app: web}}]
`,
      'services.yaml': `apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: a}}
---
apiVersion: v1
kind: Service
metadata: {name: new, labels: {app: web}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: kept}
spec: {type: LoadBalancer, ports: [{port: 80}]}
status: {loadBalancer: {ingress: [{ip: 198.18.1.0}]}}
---
apiVersion: v1
kind: Service
metadata: {name: internal}
spec: {type: ClusterIP, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: teamed, namespace: apps}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: fill1}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: fill2}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: toomany}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    const r = await ferrolb('plan', '--config', join(dir, 'config.yaml'), '--services', join(dir, 'services.yaml'), '--output', 'json');
    assert.equal(r.code, 0, r.err);
    const byName = Object.fromEntries((JSON.parse(r.out).services as { name: string }[]).map((s) => [s.name, s]));
    const zoneA = { kind: 'L2', name: 'zone-a', nodes: 'zone=a' };
    // The BGP advertisement selects by service label: "new" has app=web, "kept" has not.
    assert.deepEqual(byName.new, { namespace: 'default', name: 'new', ips: ['198.18.1.1'], pool: 'p', announcedBy: [zoneA, { kind: 'BGP', name: 'web', nodes: 'every node', peers: 'r1' }] });
    assert.deepEqual(byName.kept, { namespace: 'default', name: 'kept', ips: ['198.18.1.0'], pool: 'p', announcedBy: [zoneA] });
    assert.deepEqual(byName.internal, { namespace: 'default', name: 'internal', ips: [], skipped: 'type is ClusterIP' });
    // Assigned, but no advertisement covers pool team: the commonest silent mistake, said.
    assert.deepEqual(byName.teamed, {
      namespace: 'apps', name: 'teamed', ips: ['198.18.2.0'], pool: 'team', announcedBy: [],
      warnings: ['NotAnnounced: no L2Advertisement or BGPAdvertisement announces pool team for this service, so nothing will answer for 198.18.2.0'],
    });
    // The notes (the BGP advertisement names a peer not given) are kept in the JSON.
    assert.match(JSON.stringify(JSON.parse(r.out).warnings), /no BGPPeer named \\"r1\\"/);
    assert.deepEqual(byName.toomany, {
      namespace: 'default',
      name: 'toomany',
      ips: [],
      error: { reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/toomany": no available IPv4 address in pool "p"' },
    });
    const table = await ferrolb('plan', '--config', join(dir, 'config.yaml'), '--services', join(dir, 'services.yaml'));
    assert.match(table.out, /^default\s+toomany\s+<pending>\s+AllocationFailed: /m);
    assert.match(table.out, /^default\s+internal\s+-\s+skipped: type is ClusterIP$/m);
    assert.match(table.out, /^apps\s+teamed\s+198\.18\.2\.0\s+team\s+NotAnnounced: /m);
  });

  it('bad input: exit 1 with one line per error naming the file, never a stack', async () => {
    const dir = files({
      'bad.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n',
      'pool.yaml': POOL.replace('198.18.1.0/30', '198.18.1.300/30'),
      'ok.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: ok}\nspec: {type: LoadBalancer}\n',
    });
    const r = await ferrolb('plan', '--config', join(dir, 'pool.yaml'), '--services', join(dir, 'bad.yaml'), join(dir, 'ok.yaml'));
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /bad\.yaml:\d+: /);
    // An error in a Service file names the Service.
    const svc = files({ 'svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: [1]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n' });
    const named = await ferrolb('plan', '--config', 'examples/tutorial/routing-config.yaml', '--services', join(svc, 'svc.yaml'));
    assert.match(named.err, /svc\.yaml:1: Service shop\/web: spec: spec must be a mapping/);
    assert.match(r.err, /pool\.yaml:\d+: IPAddressPool metallb-system\/p: spec\.addresses\[0\]: /);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    const missing = await ferrolb('plan', '--config', join(dir, 'nope.yaml'), '--services', join(dir, 'ok.yaml'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.yaml/);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await ferrolb('plan', '--services', 'x')).code, 2);
    assert.equal((await ferrolb('plan', '--config', 'x', '--services', 'y', '--output', 'xml')).code, 2);
    assert.equal((await ferrolb('plan', '--bogus')).code, 2);
    assert.equal((await ferrolb('nonsense')).code, 2);
  });
});
