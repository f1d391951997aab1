// The Adj-RIB-Out delta: what a session sends to bring the peer from what it has to what
// the plan wants, with no socket (the next hop is a lookup).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ribOutChange, type SessionEnds } from './adj-rib-out.ts';
import type { RouteAttributes } from '../../planning/bgp-plan.ts';

const PLAIN: RouteAttributes = { communities: [], largeCommunities: [] };
const EBGP: SessionEnds = { myAS: 64513, peerAS: 64512, nextHop: (f) => (f === 'ipv4-unicast' ? '198.18.0.11' : '2001:db8:18::11') };

describe('Adj-RIB-Out (RFC 4271 3.2, 9.2)', () => {
  it('announces everything to a peer that has nothing, with eBGP attributes', () => {
    const r = ribOutChange(new Map(), new Map([['198.18.1.10/32', { ...PLAIN, communities: [100] }], ['2001:db8:18::200/128', PLAIN]]), EBGP);
    assert.equal(r.updates.length, 2);
    const [v4, v6] = r.updates;
    assert.deepEqual(v4, { type: 'update', withdrawn: [], nlri: ['198.18.1.10/32'], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [64513] }], communities: [100], nextHop: '198.18.0.11' } });
    assert.deepEqual(v6?.attributes.mpReach, { family: 'ipv6-unicast', nextHops: ['2001:db8:18::11'], prefixes: ['2001:db8:18::200/128'] });
    assert.deepEqual([...r.ribOut.keys()], ['198.18.1.10/32', '2001:db8:18::200/128']);
  });

  it('sends only what changed: withdrawals first, a changed attribute re-announced, the unchanged left alone', () => {
    const first = ribOutChange(new Map(), new Map([['198.18.1.1/32', PLAIN], ['198.18.1.2/32', PLAIN], ['198.18.1.3/32', PLAIN]]), EBGP);
    const r = ribOutChange(first.ribOut, new Map([['198.18.1.2/32', PLAIN], ['198.18.1.3/32', { ...PLAIN, communities: [7] }], ['198.18.1.4/32', PLAIN]]), EBGP);
    assert.deepEqual(r.updates.map((u) => [u.withdrawn, u.nlri]), [[['198.18.1.1/32'], []], [[], ['198.18.1.3/32']], [[], ['198.18.1.4/32']]]);
    assert.deepEqual([...r.ribOut.keys()].sort(), ['198.18.1.2/32', '198.18.1.3/32', '198.18.1.4/32']);
    assert.deepEqual(ribOutChange(r.ribOut, new Map([['198.18.1.2/32', PLAIN], ['198.18.1.3/32', { ...PLAIN, communities: [7] }], ['198.18.1.4/32', PLAIN]]), EBGP).updates, [], 'nothing twice');
  });

  it('gives iBGP an empty AS_PATH and LOCAL_PREF (default 100) (RFC 4271 5.1.5)', () => {
    const ibgp = { ...EBGP, peerAS: 64513 };
    const [u] = ribOutChange(new Map(), new Map([['198.18.1.1/32', PLAIN]]), ibgp).updates;
    assert.deepEqual([u?.attributes.asPath, u?.attributes.localPref], [[], 100]);
    const [v] = ribOutChange(new Map(), new Map([['198.18.1.1/32', { ...PLAIN, localPref: 150 }]]), ibgp).updates;
    assert.equal(v?.attributes.localPref, 150);
  });

  it('leaves out, and says so, prefixes of a family the session has no next hop for', () => {
    const r = ribOutChange(new Map(), new Map([['198.18.1.1/32', PLAIN], ['2001:db8:18::1/128', PLAIN]]), { ...EBGP, nextHop: (f) => (f === 'ipv4-unicast' ? '127.0.0.1' : undefined) });
    assert.deepEqual(r.updates.map((u) => u.nlri), [['198.18.1.1/32']]);
    assert.deepEqual(r.noNextHop, [{ family: 'ipv6-unicast', prefixes: 1 }]);
    assert.equal(r.ribOut.has('2001:db8:18::1/128'), false, 'so it goes out once a next hop appears');
  });
});
