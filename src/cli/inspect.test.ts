import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { doctorCommand } from './inspect.ts';

/** A kubeconfig for an API server at `server` (plain HTTP on loopback). */
function kubeconfig(dir: string, server: string): string {
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  return file;
}

async function doctor(file: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await doctorCommand.run(['--kubeconfig', file], { stdout: () => {}, stderr: (t) => void (stderr += t), cwd: process.cwd() });
  return { code, stderr };
}

describe('doctor and status cannot read the cluster: the error names its runtime code', () => {
  it('refused by the API server (403): EAPIREFUSED; nothing listening: EAPIUNREACHABLE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flb-inspect-'));
    const server: Server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'forbidden: User "u" cannot get path "/apis/metallb.io/v1beta1"' }));
    });
    try {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const refused = await doctor(kubeconfig(dir, `http://127.0.0.1:${port}`));
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`^ferrolb doctor: cannot read the cluster from http://127\\.0\\.0\\.1:${port}/: EAPIREFUSED: GET /apis/metallb\\.io/v1beta1: 403 forbidden`));
      await new Promise<void>((r) => server.close(() => r()));
      const unreachable = await doctor(kubeconfig(dir, `http://127.0.0.1:${port}`));
      assert.equal(unreachable.code, 1);
      assert.match(unreachable.stderr, /cannot read the cluster from http:\/\/127\.0\.0\.1:\d+\/: EAPIUNREACHABLE: ./);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
