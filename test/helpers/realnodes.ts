// What a lab with real nodes needs (lab/src/realnode.ts), and a describe() that skips
// without it, except under CI=true, where a skipped real-node suite would hide a broken
// machine: there it fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isRoot, kubectl, repoDir, stateDir } from './lab.ts';

/** Why real nodes cannot run here, or undefined when they can. */
export function realNodesMissing(): string | undefined {
  if (!isRoot()) return 'the lab needs root';
  for (const tool of ['containerd', 'runc', 'ctr', 'buildah', 'mmdebstrap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install containerd runc buildah mmdebstrap)`;
  }
  if (!existsSync('/usr/lib/cni/bridge')) return 'the CNI plugins are not installed (apt-get install containernetworking-plugins)';
  return undefined;
}

export function describeRealNodes(name: string, body: () => void): void {
  const why = realNodesMissing();
  if (why && process.env['CI'] === 'true') {
    describe(name, () => {
      it('can run under CI', () => {
        assert.fail(`the real-node lab suite cannot run here (${why}); under CI=true that is a failure, not a skip`);
      });
    });
    return;
  }
  describe(name, { skip: why ?? false }, body);
}

/** Builds the kubelet, the controllers, the small images and the ferrolb image, outside `up`'s timeout (minutes on a cold machine). */
export function buildRealNodeInputs(): void {
  for (const script of ['build-node.sh', 'build-image.sh']) {
    const r = spawnSync('bash', [join(repoDir, 'lab', script)], { encoding: 'utf8', timeout: 60 * 60_000 });
    if (r.status !== 0) throw new Error(`lab/${script} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

export function kubectlApply(obj: unknown): void {
  const file = join(stateDir, `apply-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(obj));
  kubectl('apply', '-f', file);
}
