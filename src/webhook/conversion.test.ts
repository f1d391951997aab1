import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { convertObjects } from './conversion.ts';

const meta = { name: 'router', namespace: 'metallb-system', resourceVersion: '5' };
const v1 = { apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: meta, spec: { myASN: 64512, peerASN: 64513, peerAddress: '10.0.0.1', holdTime: '90s', nodeSelectors: [{ matchLabels: { zone: 'a' } }] } };

describe('BGPPeer conversion (MetalLB CRDs, /convert)', () => {
  it('v1beta1 -> v1beta2 keeps every field, v1beta2 -> v1beta1 drops what v1beta1 lacks', () => {
    const up = convertObjects({ uid: 'u', desiredAPIVersion: 'metallb.io/v1beta2', objects: [v1] });
    assert.deepEqual(up, { uid: 'u', result: { status: 'Success' }, convertedObjects: [{ ...v1, apiVersion: 'metallb.io/v1beta2' }] });
    const v2 = { ...v1, apiVersion: 'metallb.io/v1beta2', spec: { ...v1.spec, vrf: 'red', dualStackAddressFamily: true, enableGracefulRestart: true } };
    const down = convertObjects({ uid: 'u', desiredAPIVersion: 'metallb.io/v1beta1', objects: [v2] });
    assert.deepEqual(down.convertedObjects, [v1]);
    // Round trip of a v1beta1 object is the identity.
    assert.deepEqual(convertObjects({ uid: 'u', desiredAPIVersion: 'metallb.io/v1beta1', objects: up.convertedObjects }).convertedObjects, [v1]);
  });
  it('fails, saying why, for other kinds or versions', () => {
    assert.deepEqual(convertObjects({ uid: 'u', desiredAPIVersion: 'metallb.io/v1', objects: [v1] }).result.status, 'Failure');
    const pool = convertObjects({ uid: 'u', desiredAPIVersion: 'metallb.io/v1beta2', objects: [{ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool' }] });
    assert.deepEqual(pool, { uid: 'u', convertedObjects: [], result: { status: 'Failure', message: 'objects[0] is not a metallb.io/v1beta1 or metallb.io/v1beta2 BGPPeer' } });
  });
});
