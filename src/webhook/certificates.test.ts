import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookCertificates } from './certificates.ts';
import { ApiError, type KubeClient } from '../k8s/client.ts';
import { ManualClock } from '../time/clock.ts';
import { createLogger } from '../observability/logging.ts';

describe('WebhookCertificates', () => {
  it("fills the Secret it is told to (MetalLB's metallb-webhook-cert), keeping the type it was created with; MetalLB's BGPPeer CRD gets the CA for /convert", async () => {
    const writes: { path: string; body: Record<string, unknown> }[] = [];
    const client = {
      get: async (path: string) => {
        if (path === '/api/v1/namespaces/metallb-system/secrets/metallb-webhook-cert') return { metadata: { resourceVersion: '7' }, type: 'Opaque', data: {} };
        if (path.endsWith('/customresourcedefinitions/bgppeers.metallb.io')) {
          // MetalLB's CRD: BGPPeers converted by the webhook Service of metallb-system.
          return { metadata: { name: 'bgppeers.metallb.io' }, spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { name: 'metallb-webhook-service', namespace: 'metallb-system', path: '/convert' } } } } } };
        }
        throw new ApiError(404, 'NotFound', `${path} not found`);
      },
      create: async (path: string, body: Record<string, unknown>) => void writes.push({ path, body }),
      replace: async (path: string, body: Record<string, unknown>) => void writes.push({ path, body }),
    } as unknown as KubeClient;
    const certs = new WebhookCertificates(client, {
      namespace: 'metallb-system',
      hosts: ['metallb-webhook-service.metallb-system.svc'],
      webhookConfiguration: 'metallb-webhook-configuration',
      secretName: 'metallb-webhook-cert',
      clock: new ManualClock(),
      log: createLogger('test', 'fatal'),
    });
    await certs.start();
    certs.stop();
    assert.equal(writes.length, 2);
    const [w, crd] = writes;
    assert.equal(w!.path, '/api/v1/namespaces/metallb-system/secrets/metallb-webhook-cert');
    // MetalLB's manifest creates the Secret without a type (Opaque); a type cannot change.
    assert.equal(w!.body.type, 'Opaque');
    assert.deepEqual((w!.body.metadata as Record<string, unknown>).name, 'metallb-webhook-cert');
    assert.deepEqual(Object.keys(w!.body.data as Record<string, string>).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    assert.match(certs.current!.tlsCert, /BEGIN CERTIFICATE/);
    // The CRD's conversion webhook trusts the same CA.
    assert.equal(crd!.path, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io');
    const bundle = (crd!.body as { spec: { conversion: { webhook: { clientConfig: { caBundle: string } } } } }).spec.conversion.webhook.clientConfig.caBundle;
    assert.equal(Buffer.from(bundle, 'base64').toString(), certs.current!.caCert);
  });
});
