// deploy/ as an operator applies it: the workloads and the webhook pass the lab's real
// API server's validation (server-side dry run, strict field validation), every
// container's arguments are ones ferrolb accepts, and the controller creates the
// speakers' memberlist key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { eventually, kubectlJson, labBin, repoDir, useLab, describeLab } from '../helpers/lab.ts';

const bin = join(repoDir, 'bin', 'ferrolb.js');
const env = { ...process.env, PATH: `${join(repoDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };

interface Container { name: string; args: string[]; env?: { name: string; value?: string }[] }
function containers(): Container[] {
  const docs = parseAllDocuments(readFileSync(join(repoDir, 'deploy', 'ferrolb.yaml'), 'utf8')).map((d) => d.toJS() as { spec: { template: { spec: { containers: Container[] } } } });
  return docs.flatMap((d) => d.spec.template.spec.containers);
}

describe('deploy/ manifests', () => {
  it('every container\'s arguments parse: ferrolb gets as far as loading a kubeconfig', () => {
    const all = containers();
    assert.deepEqual(all.map((c) => c.name).sort(), ['controller', 'speaker']);
    for (const c of all) {
      // $(VAR) is expanded by the kubelet from the pod's env; any value will do here.
      const args = c.args.map((a) => a.replace(/\$\((\w+)\)/g, (_, v: string) => (v === 'METALLB_HOST' ? '127.0.0.1' : 'metallb-system')));
      const r = spawnSync(bin, [...args, '--kubeconfig', '/nonexistent/kubeconfig'], { encoding: 'utf8', env, timeout: 30_000 });
      assert.equal(r.status, 1, `${c.name}: ${r.stderr}`);
      assert.match(r.stderr, /cannot load kubeconfig \/nonexistent\/kubeconfig/, `${c.name} reached the kubeconfig: ${r.stderr}`);
    }
  });

  describeLab('against the lab API server', () => {
    useLab({ up: ['--nodes', '1', '--ferrolb'] });

    it('the Deployment, DaemonSet, webhook Service and configuration pass server-side validation', () => {
      const r = spawnSync(labBin, ['kubectl', 'apply', '--dry-run=server', '--validate=strict', '-f', join(repoDir, 'deploy', 'ferrolb.yaml'), '-f', join(repoDir, 'deploy', 'webhook')], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      for (const o of ['deployment.apps/controller', 'daemonset.apps/speaker', 'service/ferrolb-webhook-service', 'validatingwebhookconfiguration.admissionregistration.k8s.io/ferrolb-webhook-configuration']) {
        assert.match(r.stdout, new RegExp(`${o.replaceAll('.', '\\.')} (created|configured|unchanged) \\(server dry run\\)`));
      }
    });

    it('the controller creates the speakers\' memberlist key', async () => {
      const secret = await eventually('Secret ferrolb-memberlist', 20_000, () => kubectlJson<{ data?: Record<string, string> }>('get', 'secret', 'ferrolb-memberlist', '-n', 'metallb-system'), 500);
      assert.equal(Buffer.from(secret.data?.['secretkey'] ?? '', 'base64').length, 128);
    });
  });
});
