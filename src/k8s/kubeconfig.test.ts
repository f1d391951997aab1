import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig, KubeconfigError, podNamespace } from './kubeconfig.ts';

function write(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const config = (user: string, cluster = 'server: https://127.0.0.1:16443\n    certificate-authority: ca.crt') => `apiVersion: v1
kind: Config
current-context: lab
contexts:
- name: lab
  context: {cluster: lab, user: me}
- name: other
  context: {cluster: nope, user: me}
clusters:
- name: lab
  cluster:
    ${cluster}
users:
- name: me
  user:
    ${user}
`;

describe('loadKubeconfig', () => {
  it('reads the current context: server, CA file relative to the kubeconfig, inline client cert', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    write(dir, 'ca.crt', 'CA');
    const c = loadKubeconfig(write(dir, 'config', config(`client-certificate-data: ${Buffer.from('CERT').toString('base64')}\n    client-key-data: ${Buffer.from('KEY').toString('base64')}`)));
    assert.equal(c.server.href, 'https://127.0.0.1:16443/');
    assert.equal(c.ca?.toString(), 'CA');
    assert.equal(c.cert?.toString(), 'CERT');
    assert.equal(c.key?.toString(), 'KEY');
    assert.equal(c.token, undefined);
  });

  it('tokens inline or from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    write(dir, 'ca.crt', 'CA');
    assert.equal(loadKubeconfig(write(dir, 'a', config('token: abc'))).token?.(), 'abc');
    write(dir, 'tok', 'from-file\n');
    assert.equal(loadKubeconfig(write(dir, 'b', config('tokenFile: tok'))).token?.(), 'from-file');
  });

  it('clear errors for what it cannot use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kc-'));
    write(dir, 'ca.crt', 'CA');
    const err = (text: string) => assert.throws(() => loadKubeconfig(write(dir, 'x', text)), KubeconfigError);
    err('current-context: nope\ncontexts: []\n');
    err(config('exec: {command: aws}'));
    err(config('token: a', 'server: "not a url"'));
    err(config('token: a', 'server: https://x\n    certificate-authority: missing.crt'));
    err('[unclosed');
    assert.throws(() => loadKubeconfig(join(dir, 'does-not-exist')), /does-not-exist/);
  });
});

describe('podNamespace', () => {
  it("reads the pod's namespace from its ServiceAccount files, undefined outside a pod or when empty", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferrolb-sa-'));
    assert.equal(podNamespace(dir), undefined);
    write(dir, 'namespace', 'metallb\n');
    assert.equal(podNamespace(dir), 'metallb');
    write(dir, 'namespace', '  ');
    assert.equal(podNamespace(dir), undefined);
  });
});
