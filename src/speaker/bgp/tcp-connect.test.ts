import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isExternal, sessionTTL, singleHopProblem } from './tcp-connect.ts';

const peer = { myASN: 64513, ebgpMultiHop: false };

test('isExternal: another AS, by peerASN (against localASN when set) or dynamicASN', () => {
  assert.equal(isExternal({ ...peer, peerASN: 64512 }), true);
  assert.equal(isExternal({ ...peer, peerASN: 64513 }), false);
  assert.equal(isExternal({ ...peer, peerASN: 64513, localASN: 64600 }), true, 'localASN is the AS the peer sees');
  assert.equal(isExternal({ ...peer, peerASN: 64600, localASN: 64600 }), false);
  assert.equal(isExternal({ ...peer, dynamicASN: 'external' }), true);
  assert.equal(isExternal({ ...peer, dynamicASN: 'internal' }), false);
});

test('sessionTTL: 1 for single-hop eBGP, 255 for eBGP multi-hop and for iBGP', () => {
  assert.equal(sessionTTL({ ...peer, peerASN: 64512 }), 1);
  assert.equal(sessionTTL({ ...peer, peerASN: 64512, ebgpMultiHop: true }), 255);
  assert.equal(sessionTTL({ ...peer, peerASN: 64513 }), 255);
  assert.equal(sessionTTL({ ...peer, dynamicASN: 'internal' }), 255);
  assert.equal(sessionTTL({ ...peer, dynamicASN: 'external' }), 1);
});

test('singleHopProblem: a peer on one of the node\'s subnets is reachable with TTL 1; one elsewhere is named, with the fix', () => {
  const node = [{ cidr: '127.0.0.1/8' }, { cidr: '198.18.0.11/24' }, { cidr: '2001:db8:18::11/64' }, { cidr: null }, { cidr: 'fe80::1/64' }];
  assert.equal(singleHopProblem('198.18.0.1', node), undefined);
  assert.equal(singleHopProblem('198.18.0.254', node), undefined);
  assert.equal(singleHopProblem('2001:db8:18::1', node), undefined);
  assert.equal(singleHopProblem('127.0.0.1', node), undefined);
  const far = singleHopProblem('198.18.5.1', node);
  assert.match(far ?? '', /^198\.18\.5\.1 is on none of this node's subnets.*set ebgpMultiHop: true/);
  assert.match(singleHopProblem('2001:db8:19::1', node) ?? '', /2001:db8:19::1 is on none/);
  assert.match(singleHopProblem('198.18.0.1', []) ?? '', /on none/, 'a node without addresses');
  assert.match(singleHopProblem('not-an-ip', node) ?? '', /not an IP address/);
});
