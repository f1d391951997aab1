// `lab up --ferrolb`: ferrolb's controller from the working tree, installed from deploy/
// and running with its own certificate identity, assigns a LoadBalancer IP from a pool
// in the lab's free range; `lab down` stops it with everything else.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, freshNamespace, kubectl, kubectlJson, labOk, leftovers, nothingLeft, useLab, describeLab } from '../helpers/lab.ts';
import { spawnSync } from 'node:child_process';
import { labBin } from '../helpers/lab.ts';

describeLab('lab up --ferrolb', () => {
  useLab({ up: ['--nodes', '1', '--ferrolb'] });

  it('runs the controller, which gives a LoadBalancer Service an address from the pool', async () => {
    const status = labOk(['status']);
    assert.match(status, /ferrolb-controller\s+running/);
    assert.match(status, /ferrolb-speaker-node-1\s+running/);
    const pool = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lab-pool, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.254"]}
`;
    const applied = spawnSync(labBin, ['kubectl', 'apply', '-f', '-'], { input: pool, encoding: 'utf8', timeout: 30_000 });
    assert.equal(applied.status, 0, applied.stderr);
    const ns = freshNamespace('ferrolb');
    labOk(['deploy', 'web', '--namespace', ns]);
    kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'LoadBalancer', '-n', ns);
    const ip = await eventually('an EXTERNAL-IP', 15_000, () => {
      const svc = kubectlJson<{ status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }>('get', 'service', 'web', '-n', ns);
      return svc.status?.loadBalancer?.ingress?.[0]?.ip;
    });
    const last = Number(ip.split('.')[3]);
    assert.ok(ip.startsWith('198.18.0.') && last >= 200 && last <= 254, `${ip} in the pool`);
  });

  it('is stopped by lab down with everything else', () => {
    labOk(['down']);
    assert.deepEqual(leftovers(), nothingLeft);
  });
});
