import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIGURATION_KINDS, KIND, SERVED_VERSIONS, V1BETA1, V1BETA2, convertBGPPeerSpec, type MetalLBKind } from './metallb.ts';
import { crdSchema, manifestSchema } from './metallb-schemas.ts';
import { validateValue, type JSONSchema } from './schema.ts';

/** Structural schema rules (Kubernetes apiextensions): every node has a type, no `additionalProperties` with `properties`. */
function structuralProblems(s: JSONSchema, at: string): string[] {
  const out: string[] = [];
  if (s.type === undefined) out.push(`${at}: no type`);
  if (s.properties && s.additionalProperties) out.push(`${at}: properties and additionalProperties`);
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...structuralProblems(v, `${at}.${k}`));
  if (s.items) out.push(...structuralProblems(s.items, `${at}[]`));
  if (s.additionalProperties) out.push(...structuralProblems(s.additionalProperties, `${at}{}`));
  return out;
}

describe('metallb.io kinds and schemas', () => {
  it('has a structural schema for every served kind and version', () => {
    for (const kind of Object.values(KIND) as MetalLBKind[]) {
      for (const version of SERVED_VERSIONS[kind]) {
        const s = crdSchema(kind, version);
        assert.ok(s, `${kind} ${version}`);
        assert.deepEqual(structuralProblems(s, `${kind}/${version}`), []);
      }
    }
    assert.equal(crdSchema('IPAddressPool', 'metallb.io/v1alpha1'), undefined);
    assert.equal(CONFIGURATION_KINDS.length, 6);
  });

  it('uses the CRD field names of BGPPeer v1beta2 and only the v1beta1 subset in v1beta1', () => {
    const v2 = Object.keys(crdSchema('BGPPeer', V1BETA2)!.properties!.spec!.properties!);
    for (const f of ['myASN', 'peerASN', 'dynamicASN', 'peerAddress', 'interface', 'sourceAddress', 'peerPort', 'holdTime',
      'keepaliveTime', 'connectTime', 'routerID', 'nodeSelectors', 'password', 'passwordSecret', 'bfdProfile', 'ebgpMultiHop',
      'enableGracefulRestart', 'vrf', 'disableMP', 'dualStackAddressFamily']) {
      assert.ok(v2.includes(f), f);
    }
    const v1 = Object.keys(crdSchema('BGPPeer', V1BETA1)!.properties!.spec!.properties!);
    assert.ok(!v1.includes('dynamicASN') && !v1.includes('passwordSecret') && !v1.includes('interface'));
    const peer = { apiVersion: V1BETA1, kind: 'BGPPeer', metadata: { name: 'p' }, spec: { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', dynamicASN: 'external' } };
    assert.deepEqual(validateValue(peer, manifestSchema('BGPPeer', V1BETA1)!).map((v) => v.message), ['unknown field "dynamicASN"']);
  });

  it('converts a v1beta1 BGPPeer spec to the v1beta2 meaning', () => {
    const v2 = convertBGPPeerSpec({
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '10.0.0.1',
      holdTime: '30s',
      nodeSelectors: [{ matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }],
      ebgpMultiHop: true,
    });
    assert.deepEqual(v2, {
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '10.0.0.1',
      holdTime: '30s',
      ebgpMultiHop: true,
      nodeSelectors: [{ matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }],
    });
    assert.equal(v2.dynamicASN, undefined);
    assert.equal(v2.peerPort, undefined);
  });

  it('validates status kinds against their schemas', () => {
    const ok = { apiVersion: V1BETA1, kind: 'ConfigurationState', metadata: { name: 'controller' }, status: { result: 'Valid' } };
    assert.deepEqual(validateValue(ok, manifestSchema('ConfigurationState', V1BETA1)!), []);
    const bad = { ...ok, status: { result: 'Fine' } };
    assert.equal(validateValue(bad, manifestSchema('ConfigurationState', V1BETA1)!)[0]?.code, 'EENUM');
    const l2 = { apiVersion: V1BETA1, kind: 'ServiceL2Status', metadata: { name: 'l2-x' }, status: { node: 'n1', serviceName: 's', serviceNamespace: 'd', interfaces: [{ name: 'eth0' }] } };
    assert.deepEqual(validateValue(l2, manifestSchema('ServiceL2Status', V1BETA1)!), []);
  });
});
