import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Allocator, familyChoices } from './allocator.ts';
import { formatIP, type IP } from '../net/ip.ts';
import { allocation, ip, pool, request } from './fixtures.test-support.ts';

const ips = (a: { ips: readonly IP[] }): string[] => a.ips.map(formatIP);

function allocOk(alloc: Allocator, ...args: Parameters<Allocator['allocate']>): string[] {
  const r = alloc.allocate(...args);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return ips(r.assignment);
}

describe('Allocator: lowest free address', () => {
  it('hands out the tutorial pool in order, and a released IP to the next service', () => {
    const a = new Allocator([pool('first-pool', ['10.0.0.3-10.0.0.254'])]);
    assert.deepEqual(allocOk(a, request('my-nginx')), ['10.0.0.3']);
    assert.deepEqual(allocOk(a, request('hostname-deployment')), ['10.0.0.4']);
    assert.deepEqual(allocOk(a, request('third')), ['10.0.0.5']);
    a.release('default/my-nginx');
    assert.deepEqual(allocOk(a, request('fourth')), ['10.0.0.3']);
    assert.deepEqual(allocOk(a, request('fifth')), ['10.0.0.6']);
  });

  it('steps over addresses taken out of order by requests', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/29'])]);
    assert.ok(a.allocate(request('r1', { requestedIPs: [ip('198.18.1.1')] })).ok);
    assert.ok(a.allocate(request('r2', { requestedIPs: [ip('198.18.1.2')] })).ok);
    assert.deepEqual(allocOk(a, request('x')), ['198.18.1.0']);
    assert.deepEqual(allocOk(a, request('y')), ['198.18.1.3']);
    a.release('default/r1');
    assert.deepEqual(allocOk(a, request('z')), ['198.18.1.1']);
  });

  it('fails when the pool is full, and counts usage', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/31'])]);
    allocOk(a, request('a'));
    allocOk(a, request('b'));
    const r = a.allocate(request('c'));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /no available IPv4 address in pool "p"/);
    assert.deepEqual(a.usage('p'), { assignedIPv4: 2, assignedIPv6: 0, availableIPv4: 0n, availableIPv6: 0n });
  });

  it('walks across the ranges of one pool in address order', () => {
    const a = new Allocator([pool('p', ['198.18.1.10/31', '198.18.1.2-198.18.1.2'])]);
    assert.deepEqual([allocOk(a, request('a')), allocOk(a, request('b')), allocOk(a, request('c'))], [['198.18.1.2'], ['198.18.1.10'], ['198.18.1.11']]);
  });

  it('avoidBuggyIPs skips .0 and .255 and refuses them when requested', () => {
    const a = new Allocator([pool('p', ['198.18.0.254-198.18.1.1'], { avoidBuggyIPs: true })]);
    assert.deepEqual(allocOk(a, request('a')), ['198.18.0.254']);
    assert.deepEqual(allocOk(a, request('b')), ['198.18.1.1']);
    assert.equal(a.allocate(request('c')).ok, false);
    const b = new Allocator([pool('p', ['198.18.1.0/24'], { avoidBuggyIPs: true })]);
    assert.equal(b.usage('p')!.availableIPv4, 254n);
    const r = b.allocate(request('x', { requestedIPs: [ip('198.18.1.255')] }));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /avoidBuggyIPs/);
  });

  it('network and broadcast addresses are allocatable without avoidBuggyIPs', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/30'])]);
    assert.deepEqual([1, 2, 3, 4].map((i) => allocOk(a, request(`s${i}`))[0]), ['198.18.1.0', '198.18.1.1', '198.18.1.2', '198.18.1.3']);
  });

  it('reports huge pools without materialising them', () => {
    const a = new Allocator([pool('v6', ['2001:db8::/32'])]);
    assert.equal(a.usage('v6')!.availableIPv6, 2n ** 96n);
    assert.deepEqual(allocOk(a, request('a', { ipFamilies: ['IPv6'] })), ['2001:db8::']);
  });
});

describe('Allocator: pool choice', () => {
  it('requested IP from an autoAssign:false pool, but never auto-assigned from it', () => {
    const a = new Allocator([pool('manual', ['198.18.1.0/30'], { autoAssign: false })]);
    assert.equal(a.allocate(request('auto')).ok, false);
    assert.deepEqual(allocOk(a, request('req', { requestedIPs: [ip('198.18.1.2')] })), ['198.18.1.2']);
    assert.deepEqual(allocOk(a, request('bypool', { requestedPool: 'manual' })), ['198.18.1.0']);
  });

  it('a requested IP must lie in the requested pool', () => {
    const a = new Allocator([pool('a', ['198.18.1.0/30']), pool('b', ['198.18.1.4/30'])]);
    const r = a.allocate(request('x', { requestedPool: 'a', requestedIPs: [ip('198.18.1.5')] }));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.message, /not in the requested pool "a"/);
    const missing = a.allocate(request('y', { requestedPool: 'nope' }));
    assert.match(missing.ok ? '' : missing.message, /pool "nope" does not exist/);
  });

  it('serviceAllocation: priority order, then pools without serviceAllocation', () => {
    const a = new Allocator([
      pool('plain', ['198.18.1.0/30']),
      pool('low', ['198.18.1.8/30'], { serviceAllocation: allocation({ priority: 20, namespaces: ['web'] }) }),
      pool('high', ['198.18.1.16/31'], { serviceAllocation: allocation({ priority: 10, namespaces: ['web'] }) }),
      pool('unranked', ['198.18.1.24/31'], { serviceAllocation: allocation({ namespaces: ['web'] }) }),
    ]);
    const web = (n: string) => request(`web/${n}`);
    assert.deepEqual(a.candidatePools(web('a')).map((p) => p.name), ['high', 'low', 'unranked', 'plain']);
    assert.deepEqual(a.candidatePools(request('other/a')).map((p) => p.name), ['plain']);
    assert.deepEqual(allocOk(a, web('1')), ['198.18.1.16']);
    assert.deepEqual(allocOk(a, web('2')), ['198.18.1.17']);
    assert.deepEqual(allocOk(a, web('3')), ['198.18.1.8']);
  });

  it('serviceAllocation: namespace selectors OR namespaces, AND service selectors', () => {
    const p = pool('sel', ['198.18.1.0/30'], {
      serviceAllocation: allocation({
        namespaces: ['named'],
        namespaceSelectors: [{ matchLabels: { team: 'a' } }],
        serviceSelectors: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }],
      }),
    });
    const a = new Allocator([p]);
    const front = { tier: 'front' };
    assert.equal(a.admitsService(p, request('named/x', { labels: front })), true);
    assert.equal(a.admitsService(p, request('other/x', { labels: front, namespaceLabels: { team: 'a' } })), true);
    assert.equal(a.admitsService(p, request('other/x', { labels: front, namespaceLabels: { team: 'b' } })), false);
    assert.equal(a.admitsService(p, request('named/x', { labels: { tier: 'back' } })), false);
    const r = a.allocate(request('named/y', { requestedIPs: [ip('198.18.1.1')] }));
    assert.match(r.ok ? '' : r.message, /does not serve named\/y/);
  });
});

describe('Allocator: sharing', () => {
  const shared = (key: string, port: number, extra = {}) =>
    request(key, { sharingKey: 'k', ports: [{ protocol: 'TCP', port }], ...extra });

  it('services with the same key and distinct ports share one IP, across namespaces', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/28'])]);
    allocOk(a, request('first'));
    assert.deepEqual(allocOk(a, shared('ns1/dns-tcp', 53)), ['198.18.1.1']);
    assert.deepEqual(allocOk(a, shared('ns2/http', 80)), ['198.18.1.1']);
    assert.deepEqual(a.holdersOf(ip('198.18.1.1')), ['ns1/dns-tcp', 'ns2/http']);
    a.release('ns1/dns-tcp');
    assert.deepEqual(a.holdersOf(ip('198.18.1.1')), ['ns2/http']);
    assert.deepEqual(allocOk(a, request('next')), ['198.18.1.2'], 'a shared IP still held is not free');
  });

  it('a port clash, another key, or another Local backend gets its own IP', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/28'])]);
    allocOk(a, shared('a', 80));
    assert.deepEqual(allocOk(a, shared('clash', 80)), ['198.18.1.1']);
    assert.deepEqual(allocOk(a, request('other', { sharingKey: 'other', ports: [{ protocol: 'TCP', port: 81 }] })), ['198.18.1.2']);
    assert.deepEqual(allocOk(a, shared('local', 82, { backendKey: 'app=x' })), ['198.18.1.3']);
    assert.deepEqual(allocOk(a, shared('udp', 80, { ports: [{ protocol: 'UDP', port: 80 }] })), ['198.18.1.0']);
  });

  it('requesting a held IP without a matching key names the holder', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/28'])]);
    allocOk(a, request('owner'));
    const r = a.allocate(request('thief', { requestedIPs: [ip('198.18.1.0')] }));
    assert.match(r.ok ? '' : r.message, /198\.18\.1\.0 is already in use by default\/owner/);
  });
});

describe('Allocator: dual stack', () => {
  const dual = pool('dual', ['198.18.1.0/30', '2001:db8:1::/126']);
  const v4only = pool('v4', ['198.18.2.0/30']);

  it('RequireDualStack takes one of each family from one pool, in ipFamilies order', () => {
    const a = new Allocator([v4only, dual]);
    assert.deepEqual(allocOk(a, request('x', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] })), ['2001:db8:1::', '198.18.1.0']);
    const b = new Allocator([v4only]);
    assert.equal(b.allocate(request('x', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] })).ok, false);
  });

  it('PreferDualStack falls back to one family, and completes later from the same pool', () => {
    const a = new Allocator([pool('d', ['198.18.1.0/32', '2001:db8:1::/128'])]);
    allocOk(a, request('v6', { ipFamilies: ['IPv6'] }));
    const svc = request('pref', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    assert.deepEqual(allocOk(a, svc), ['198.18.1.0']);
    assert.equal(a.complete(svc), undefined);
    a.release('default/v6');
    assert.deepEqual(ips(a.complete(svc)!), ['198.18.1.0', '2001:db8:1::']);
  });

  it('familyChoices encodes the policies', () => {
    assert.deepEqual(familyChoices(request('a', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] })), [['IPv6']]);
    assert.deepEqual(familyChoices(request('a', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv6', 'IPv4'] })), [['IPv6', 'IPv4'], ['IPv6'], ['IPv4']]);
  });
});

describe('Allocator: pool edits', () => {
  it('setPools keeps records and recounts usage', () => {
    const a = new Allocator([pool('p', ['198.18.1.0/29'])]);
    allocOk(a, request('a'));
    allocOk(a, request('b'));
    a.setPools([pool('p', ['198.18.1.1/32', '198.18.1.4/30'])]);
    assert.deepEqual(a.usage('p'), { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 4n, availableIPv6: 0n });
    assert.equal(a.poolOf(ip('198.18.1.0')), undefined);
    assert.deepEqual(allocOk(a, request('c')), ['198.18.1.4']);
    a.release('default/a'); // outside every pool now: nothing to free
    assert.equal(a.usage('p')!.assignedIPv4, 2);
  });
});

// ---- properties -------------------------------------------------------------------

type Op =
  | { op: 'alloc'; svc: number; key: string; port: number; ns: number }
  | { op: 'request'; svc: number; offset: number }
  | { op: 'release'; svc: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('alloc' as const), svc: fc.nat(30), key: fc.constantFrom('', '', 'k1', 'k2'), port: fc.constantFrom(80, 443, 53), ns: fc.nat(2) }),
  fc.record({ op: fc.constant('request' as const), svc: fc.nat(30), offset: fc.nat(40) }),
  fc.record({ op: fc.constant('release' as const), svc: fc.nat(30) }),
);

function propertyPools() {
  return [
    pool('small', ['198.18.1.0/30', '198.18.1.8-198.18.1.10'], { avoidBuggyIPs: true }),
    pool('ns1only', ['198.18.1.16/29'], { serviceAllocation: allocation({ namespaces: ['ns1'], priority: 1 }) }),
    pool('manual', ['198.18.1.32/30'], { autoAssign: false }),
  ];
}

describe('Allocator properties', () => {
  it('no IP is held by two services unless sharing allows; every IP lies in a pool that admits its holder; counts agree', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const a = new Allocator(propertyPools());
        const reqs = new Map<string, ReturnType<typeof request>>();
        for (const o of ops) {
          const key = `ns${o.op === 'alloc' ? o.ns : 0}/s${o.svc}`;
          if (o.op === 'release') {
            for (const k of [...reqs.keys()].filter((k) => k.endsWith(`/s${o.svc}`))) {
              a.release(k);
              reqs.delete(k);
            }
            continue;
          }
          const r =
            o.op === 'alloc'
              ? request(key, { sharingKey: o.key, ports: [{ protocol: 'TCP', port: o.port }] })
              : request(key, { requestedIPs: [{ family: 'IPv4', value: ip('198.18.1.0').value + BigInt(o.offset) }] });
          if (a.assignment(r.key)) continue;
          if (a.allocate(r).ok) reqs.set(r.key, r);
        }
        // Invariants over the final state.
        const byIP = new Map<bigint, string[]>();
        for (const [key, r] of reqs) {
          const asg = a.assignment(key)!;
          assert.ok(asg, `${key} lost its assignment`);
          for (const x of asg.ips) {
            const p = a.poolOf(x)!;
            assert.ok(p, `${formatIP(x)} of ${key} is in no pool`);
            assert.equal(p.name, asg.pool);
            assert.ok(a.admitsService(p, r), `${p.name} does not admit ${key}`);
            assert.ok(!(p.avoidBuggyIPs && (x.value & 0xffn) === 0n), 'buggy IP handed out');
            byIP.set(x.value, [...(byIP.get(x.value) ?? []), key]);
          }
        }
        for (const [value, holders] of byIP) {
          if (holders.length < 2) continue;
          const rs = holders.map((h) => reqs.get(h)!);
          assert.ok(rs.every((r) => r.sharingKey !== '' && r.sharingKey === rs[0]!.sharingKey), `IP ${value} held by ${holders} without a common sharing key`);
          const ports = rs.map((r) => `${r.ports[0]!.protocol}/${r.ports[0]!.port}`);
          assert.equal(new Set(ports).size, ports.length, `port clash on ${value}`);
        }
        for (const p of propertyPools()) {
          const used = [...byIP.keys()].filter((v) => a.poolOf({ family: 'IPv4', value: v })?.name === p.name).length;
          assert.equal(a.usage(p.name)!.assignedIPv4, used, `usage of ${p.name}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('release then re-allocation never loses or duplicates an address', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(15), { maxLength: 60 }), (releases) => {
        const a = new Allocator([pool('p', ['198.18.1.0/28'])]);
        for (let i = 0; i < 16; i++) allocOk(a, request(`s${i}`));
        const live = new Set(Array.from({ length: 16 }, (_, i) => `default/s${i}`));
        let next = 16;
        for (const r of releases) {
          const victim = [...live][r % live.size]!;
          a.release(victim);
          live.delete(victim);
          const name = `s${next++}`;
          allocOk(a, request(name));
          live.add(`default/${name}`);
        }
        const held = [...live].map((k) => a.assignment(k)!.ips[0]!.value);
        assert.equal(new Set(held).size, 16, 'every address held exactly once');
        assert.equal(a.allocate(request('overflow')).ok, false, 'pool is exactly full');
      }),
      { numRuns: 200 },
    );
  });

  it('allocation is deterministic: the same calls give the same IPs', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const run = () => {
          const a = new Allocator(propertyPools());
          return ops.map((o) => {
            const key = `ns0/s${o.svc}`;
            if (o.op === 'release') return String(a.release(key)?.ips.map(formatIP));
            const r = a.allocate(request(key, o.op === 'alloc' ? { sharingKey: o.key } : {}));
            return r.ok ? ips(r.assignment).join() : r.message;
          });
        };
        assert.deepEqual(run(), run());
      }),
      { numRuns: 100 },
    );
  });
});
