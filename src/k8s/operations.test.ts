import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type KubeClient } from './client.ts';
import * as op from './operations.ts';

/** Records each call as `VERB path body`; `answer` gives the reply (or the error) per call. */
function recorder(answer: (verb: string, path: string) => unknown = () => ({})) {
  const calls: string[] = [];
  const call = (verb: string) => async (path: string, body?: unknown) => {
    calls.push(`${verb} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
    const a = answer(verb, path);
    if (a instanceof Error) throw a;
    return a;
  };
  const client = { get: call('GET'), create: call('POST'), replace: call('PUT'), mergePatch: call('PATCH'), delete: call('DELETE') } as unknown as KubeClient;
  return { client, calls };
}
const refused = (status: number) => new ApiError(status, '', `refused with ${status}`);

describe('k8s operations: the requests each write sends', () => {
  it('Services, pools, status objects, Events, Leases, Secrets, Deployments: one path and body each', async () => {
    const { client, calls } = recorder((verb) => (verb === 'POST' ? { metadata: { name: 'a.1' } } : {}));
    const web = { namespace: 'web', name: 'a' };
    await op.patchServiceStatus(client, web, undefined, { 'metallb.io/ip-allocated-from-pool': 'p' });
    await op.patchServiceStatus(client, web, [{ ip: '198.18.1.1' }]);
    await op.patchServiceStatus(client, web, [], { 'metallb.io/ip-allocated-from-pool': null });
    await op.patchObjectStatus(client, 'IPAddressPool', 'metallb-system', 'p', { assignedIPv4: 1 });
    await op.listStatusObjects(client, 'ServiceL2Status', 'metallb-system', 'metallb.io/node=n1').catch(() => undefined);
    await op.createStatusObject(client, 'ConfigurationState', 'metallb-system', { name: 'controller' });
    await op.deleteStatusObject(client, 'ServiceBGPStatus', 'metallb-system', 'bgp-1');
    await op.deleteStatusObjects(client, 'ConfigurationState', 'metallb-system');
    assert.equal(await op.createEvent(client, { metadata: { generateName: 'a.', namespace: 'web' } } as op.CoreEvent), 'a.1');
    await op.patchEventCount(client, 'web', 'a.1', 2, '2026-12-02T00:00:00Z');
    await op.deleteLease(client, 'metallb-system', 'ferrolb-controller');
    await op.writeSecret(client, 'metallb-system', 'm', { type: 'Opaque', data: { k: 'dg==' } });
    await op.writeSecret(client, 'metallb-system', 'm', { type: 'kubernetes.io/tls', data: { k: 'dg==' } }, { metadata: { resourceVersion: '7' }, type: 'Opaque' });
    await op.deleteSecret(client, 'metallb-system', 'm');
    await op.deleteDeploymentForeground(client, 'metallb-system', 'controller');
    assert.deepEqual(calls, [
      // The pool annotation alone, through the status subresource (ingress left alone).
      'PATCH /api/v1/namespaces/web/services/a/status {"metadata":{"annotations":{"metallb.io/ip-allocated-from-pool":"p"}}}',
      'PATCH /api/v1/namespaces/web/services/a/status {"status":{"loadBalancer":{"ingress":[{"ip":"198.18.1.1"}]}}}',
      // An empty list clears the field; the annotation goes in the same request.
      'PATCH /api/v1/namespaces/web/services/a/status {"metadata":{"annotations":{"metallb.io/ip-allocated-from-pool":null}},"status":{"loadBalancer":{"ingress":null}}}',
      'PATCH /apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/p/status {"status":{"assignedIPv4":1}}',
      'GET /apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses?labelSelector=metallb.io%2Fnode%3Dn1',
      'POST /apis/metallb.io/v1beta1/namespaces/metallb-system/configurationstates {"apiVersion":"metallb.io/v1beta1","kind":"ConfigurationState","metadata":{"name":"controller"}}',
      'DELETE /apis/metallb.io/v1beta1/namespaces/metallb-system/servicebgpstatuses/bgp-1',
      'DELETE /apis/metallb.io/v1beta1/namespaces/metallb-system/configurationstates',
      'POST /api/v1/namespaces/web/events {"apiVersion":"v1","kind":"Event","metadata":{"generateName":"a.","namespace":"web"}}',
      'PATCH /api/v1/namespaces/web/events/a.1 {"count":2,"lastTimestamp":"2026-12-02T00:00:00Z"}',
      'DELETE /apis/coordination.k8s.io/v1/namespaces/metallb-system/leases/ferrolb-controller',
      'POST /api/v1/namespaces/metallb-system/secrets {"apiVersion":"v1","kind":"Secret","metadata":{"name":"m","namespace":"metallb-system"},"type":"Opaque","data":{"k":"dg=="}}',
      // A replace carries the resourceVersion read and keeps the type read.
      'PUT /api/v1/namespaces/metallb-system/secrets/m {"apiVersion":"v1","kind":"Secret","metadata":{"name":"m","namespace":"metallb-system","resourceVersion":"7"},"type":"Opaque","data":{"k":"dg=="}}',
      'DELETE /api/v1/namespaces/metallb-system/secrets/m',
      'DELETE /apis/apps/v1/namespaces/metallb-system/deployments/controller {"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Foreground"}',
    ]);
  });

  it('the refusals a write expects are answers (404 none, 409 someone came first); any other is thrown', async () => {
    const answering = (status: number) => recorder(() => refused(status)).client;
    assert.equal(await op.readSecret(answering(404), 'ns', 's'), undefined);
    assert.equal(await op.getStatusObject(answering(404), 'ConfigurationState', 'ns', 'c'), undefined);
    assert.equal(await op.getLease(answering(404), 'ns', 'l'), undefined);
    assert.equal(await op.deploymentExists(answering(404), 'ns', 'd'), false);
    assert.equal(await op.deleteDeploymentForeground(answering(404), 'ns', 'd'), false);
    await op.deleteStatusObject(answering(404), 'ServiceL2Status', 'ns', 'x');
    await op.createStatusObject(answering(409), 'ServiceL2Status', 'ns', { name: 'x' });
    assert.equal(await op.writeSecret(answering(409), 'ns', 's', { type: 'Opaque', data: {} }), false);
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'ns', resourceVersion: '3' }, spec: {} } as const;
    assert.equal(await op.createLease(answering(409), lease), false);
    assert.equal(await op.replaceLease(answering(409), lease), false);
    for (const status of [403, 500]) {
      await assert.rejects(op.readSecret(answering(status), 'ns', 's'), ApiError);
      await assert.rejects(op.createStatusObject(answering(status), 'ServiceL2Status', 'ns', { name: 'x' }), ApiError);
      await assert.rejects(op.deleteStatusObject(answering(status), 'ServiceL2Status', 'ns', 'x'), ApiError);
      await assert.rejects(op.writeSecret(answering(status), 'ns', 's', { type: 'Opaque', data: {} }), ApiError);
      await assert.rejects(op.replaceLease(answering(status), lease), ApiError);
    }
  });
});

describe('k8s operations: the webhook\'s caBundle', () => {
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const bundle = Buffer.from(ca).toString('base64');

  it('a ValidatingWebhookConfiguration: every webhook gets the CA in one PUT of what was read; current is left alone; none is absent', async () => {
    const stored = { metadata: { resourceVersion: '5' }, webhooks: [{ name: 'a', clientConfig: { service: { name: 's' } } }, { name: 'b', clientConfig: { caBundle: bundle } }] };
    const { client, calls } = recorder((verb) => (verb === 'GET' ? structuredClone(stored) : {}));
    assert.equal(await op.setWebhookCABundle(client, 'ferrolb-webhook-configuration', ca), 'updated');
    const put = JSON.parse(calls[1]!.replace(/^PUT \S+ /, '')) as typeof stored;
    assert.equal(calls[1]!.split(' ')[1], '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/ferrolb-webhook-configuration');
    assert.equal(put.metadata.resourceVersion, '5');
    assert.deepEqual(put.webhooks.map((w) => w.clientConfig), [{ service: { name: 's' }, caBundle: bundle }, { caBundle: bundle }]);
    const current = recorder(() => ({ webhooks: [{ clientConfig: { caBundle: bundle } }] }));
    assert.equal(await op.setWebhookCABundle(current.client, 'w', ca), 'current');
    assert.equal(current.calls.length, 1);
    assert.equal(await op.setWebhookCABundle(recorder(() => refused(404)).client, 'w', ca), 'absent');
  });

  it("a CRD's conversion webhook: only when it is a Service of our namespace; no RBAC to update it is forbidden, not an error", async () => {
    const crd = (namespace: string) => ({ spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig: { service: { namespace } } } } } });
    const ours = recorder((verb) => (verb === 'GET' ? crd('metallb-system') : {}));
    assert.equal(await op.setConversionCABundle(ours.client, 'bgppeers.metallb.io', 'metallb-system', ca), 'updated');
    assert.match(ours.calls[1]!, new RegExp(`^PUT /apis/apiextensions.k8s.io/v1/customresourcedefinitions/bgppeers.metallb.io .*"caBundle":"${bundle}"`));
    assert.equal(await op.setConversionCABundle(recorder(() => crd('other')).client, 'bgppeers.metallb.io', 'metallb-system', ca), 'absent');
    assert.equal(await op.setConversionCABundle(recorder(() => refused(403)).client, 'bgppeers.metallb.io', 'metallb-system', ca), 'absent');
    const noRBAC = recorder((verb) => (verb === 'GET' ? crd('metallb-system') : refused(403)));
    assert.equal(await op.setConversionCABundle(noRBAC.client, 'bgppeers.metallb.io', 'metallb-system', ca), 'forbidden');
    const broken = recorder((verb) => (verb === 'GET' ? crd('metallb-system') : refused(500)));
    await assert.rejects(op.setConversionCABundle(broken.client, 'bgppeers.metallb.io', 'metallb-system', ca), ApiError);
  });
});
