// The webhook's HTTPS endpoint over loopback: AdmissionReviews in and out, bad
// requests, and a certificate swapped on disk being served without a restart.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createLogger } from '../observability/logging.ts';
import { createCA, issueServingCert } from './x509.ts';
import { filesTLS, WebhookServer } from './server.ts';

const dir = mkdtempSync(join(tmpdir(), 'flb-webhook-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeCert(now: Date): string {
  const ca = createCA('test-ca', { now, days: 30 });
  const tls = issueServingCert({ ...ca, commonName: 'test-ca' }, ['127.0.0.1'], { now, days: 10 });
  writeFileSync(join(dir, 'tls.crt'), tls.certPem);
  writeFileSync(join(dir, 'tls.key'), tls.keyPem);
  return ca.certPem;
}

function post(port: number, ca: string, path: string, body: string): Promise<{ status: number; text: string; peerCert: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate();
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, peerCert: peer?.fingerprint256 ?? '' }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const review = (object: unknown, namespace = 'metallb-system') =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'abc', kind: { group: 'metallb.io', version: 'v1beta1', kind: 'IPAddressPool' }, namespace, name: 'p', operation: 'CREATE', object } });

describe('webhook server', () => {
  it('answers AdmissionReviews over TLS, refuses garbage with 400, serves a rotated certificate', async () => {
    let ca = writeCert(new Date());
    let loaded = true;
    const server = new WebhookServer({
      port: 0,
      host: '127.0.0.1',
      tls: filesTLS(dir),
      reloadEvery: 50,
      namespace: 'metallb-system',
      current: () => (loaded ? [] : undefined),
      log: createLogger('test', 'fatal'),
    });
    await server.start();
    try {
      const ok = await post(server.port, ca, '/validate-metallb-io-v1beta1-ipaddresspool', review({ metadata: { name: 'p', namespace: 'metallb-system' }, spec: { addresses: ['198.18.1.0/24'] } }));
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.text), { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'abc', allowed: true } });

      // MetalLB's CRDs convert BGPPeers through /convert.
      // As the API server calls it: its deadline in the query.
      const conv = await post(server.port, ca, '/convert?timeout=30s', JSON.stringify({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid: 'c1', desiredAPIVersion: 'metallb.io/v1beta2', objects: [{ apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'r' }, spec: { myASN: 1 } }] } }));
      assert.equal(conv.status, 200);
      assert.deepEqual(JSON.parse(conv.text), { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: { uid: 'c1', convertedObjects: [{ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'r' }, spec: { myASN: 1 } }], result: { status: 'Success' } } });
      assert.equal((await post(server.port, ca, '/convert', '{"request": {}}')).status, 400);
      const bad = await post(server.port, ca, '/validate-metallb-io-v1beta1-ipaddresspool', review({ metadata: { name: 'p' }, spec: { addresses: ['nope'] } }));
      const response = JSON.parse(bad.text).response;
      assert.equal(response.allowed, false);
      assert.equal(response.status.code, 403);
      assert.match(response.status.message, /nope/);

      assert.equal((await post(server.port, ca, '/validate-x', '{not json')).status, 400);
      assert.equal((await post(server.port, ca, '/validate-x', '{"request": {}}')).status, 400);
      assert.equal((await post(server.port, ca, '/elsewhere', '{}')).status, 404);

      loaded = false;
      const early = JSON.parse((await post(server.port, ca, '/validate-x', review({ metadata: { name: 'p' }, spec: { addresses: ['198.18.1.0/24'] } }))).text).response;
      assert.equal(early.allowed, false, 'no decision against an empty cache');
      assert.match(early.status.message, /not loaded the configuration yet/);
      loaded = true;

      const before = (await post(server.port, ca, '/validate-x', review({}))).peerCert;
      await new Promise((r) => setTimeout(r, 20)); // a distinct mtime
      ca = writeCert(new Date());
      const fingerprint = new X509Certificate(readFileSync(join(dir, 'tls.crt'))).fingerprint256;
      let served = '';
      for (let i = 0; i < 40 && served !== fingerprint; i++) {
        await new Promise((r) => setTimeout(r, 50));
        served = (await post(server.port, ca, '/validate-x', review({}))).peerCert;
      }
      assert.notEqual(before, fingerprint);
      assert.equal(served, fingerprint, 'the new certificate is served without a restart');
    } finally {
      server.stop();
    }
  });
});
