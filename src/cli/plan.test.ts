import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
        { namespace: 'default', name: 'my-nginx', ips: ['10.0.0.3'], pool: 'first-pool' },
        { namespace: 'default', name: 'hostname-deployment', ips: ['10.0.0.4'], pool: 'first-pool' },
      ],
    });
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
`,
      'services.yaml': `apiVersion: v1
kind: Namespace
metadata: {name: apps, labels: {team: a}}
---
apiVersion: v1
kind: Service
metadata: {name: new}
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
    assert.deepEqual(byName.new, { namespace: 'default', name: 'new', ips: ['198.18.1.1'], pool: 'p' });
    assert.deepEqual(byName.kept, { namespace: 'default', name: 'kept', ips: ['198.18.1.0'], pool: 'p' });
    assert.deepEqual(byName.internal, { namespace: 'default', name: 'internal', ips: [], skipped: 'type is ClusterIP' });
    assert.deepEqual(byName.teamed, { namespace: 'apps', name: 'teamed', ips: ['198.18.2.0'], pool: 'team' });
    assert.deepEqual(byName.toomany, {
      namespace: 'default',
      name: 'toomany',
      ips: [],
      error: { reason: 'AllocationFailed', message: 'Failed to allocate IP for "default/toomany": no available IPv4 address in pool "p"' },
    });
    const table = await ferrolb('plan', '--config', join(dir, 'config.yaml'), '--services', join(dir, 'services.yaml'));
    assert.match(table.out, /^default\s+toomany\s+<pending>\s+AllocationFailed: /m);
    assert.match(table.out, /^default\s+internal\s+-\s+skipped: type is ClusterIP$/m);
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
