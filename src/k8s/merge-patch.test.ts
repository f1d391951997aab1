import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { applyMergePatch } from './merge-patch.ts';
import { KubeClient } from './client.ts';

describe('applyMergePatch (RFC 7386)', () => {
  it("gives RFC 7386's results", () => {
    // The RFC's appendix A cases, a few of them.
    assert.deepEqual(applyMergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(applyMergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
    assert.deepEqual(applyMergePatch({ a: 'b', b: 'c' }, { a: null }), { b: 'c' });
    assert.deepEqual(applyMergePatch({ a: ['b'] }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(applyMergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
    assert.deepEqual(applyMergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(applyMergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
    assert.deepEqual(applyMergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });

  it('keeps a JSON.rawJSON value a number (an int64 pool count), not an object to merge into', () => {
    const raw = (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON('9223372036854775807');
    const merged = applyMergePatch({ status: { availableIPv6: 5, assignedIPv6: 1 } }, { status: { availableIPv6: raw } });
    assert.equal(JSON.stringify(merged), '{"status":{"availableIPv6":9223372036854775807,"assignedIPv6":1}}');
  });
});

describe('KubeClient.mergePatch where RBAC grants update but not patch', () => {
  it('writes the same change as GET + PUT, retrying a conflict', async () => {
    let stored: Record<string, unknown> = { metadata: { name: 'web', resourceVersion: '1' }, status: { loadBalancer: {} } };
    const seen: string[] = [];
    let conflicts = 1;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method!} ${req.url!}`);
        const status = (code: number, reason: string) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code, reason, message: reason }));
        // MetalLB's controller Role: get on services, update (not get, not patch) on services/status.
        if (req.method === 'PATCH' || (req.method === 'GET' && req.url!.endsWith('/status'))) return status(403, 'Forbidden');
        if (req.method === 'GET') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stored));
        if (req.method === 'PUT') {
          if (conflicts-- > 0) {
            // Someone else wrote in between.
            stored = { ...stored, metadata: { name: 'web', resourceVersion: '2' } };
            return status(409, 'Conflict');
          }
          stored = JSON.parse(body) as Record<string, unknown>;
          return res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        }
        status(405, 'MethodNotAllowed');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const client = new KubeClient({ server: new URL(`http://127.0.0.1:${port}`), insecureSkipTLSVerify: false, source: 'test' });
    try {
      const svc = '/api/v1/namespaces/default/services/web';
      await client.mergePatch(`${svc}/status`, { status: { loadBalancer: { ingress: [{ ip: '198.18.0.3' }] } } });
      // The object read from its own path, written back through the subresource.
      assert.deepEqual(seen, [`PATCH ${svc}/status`, `GET ${svc}`, `PUT ${svc}/status`, `GET ${svc}`, `PUT ${svc}/status`]);
      assert.deepEqual(stored, { metadata: { name: 'web', resourceVersion: '2' }, status: { loadBalancer: { ingress: [{ ip: '198.18.0.3' }] } } });
    } finally {
      client.close();
      server.close();
    }
  });
});
