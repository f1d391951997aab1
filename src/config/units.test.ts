// Duration, community, name and selector syntax.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from './duration.ts';
import { formatCommunity, parseCommunity } from './community.ts';
import { checkDNSLabel, checkDNSSubdomain, checkLabelKey, checkLabelValue, checkSelector, selectorKey, type SelectorProblem } from './names.ts';

const nanos = (s: string): bigint | string => {
  const r = parseGoDuration(s);
  return 'nanos' in r ? r.nanos : r.reason;
};

describe('parseGoDuration', () => {
  it('reads Go durations exactly', () => {
    assert.equal(nanos('90s'), 90_000_000_000n);
    assert.equal(nanos('1m30s'), 90_000_000_000n);
    assert.equal(nanos('1.5h'), 5_400_000_000_000n);
    assert.equal(nanos('500ms'), 500_000_000n);
    assert.equal(nanos('3µs'), 3_000n);
    assert.equal(nanos('3us'), 3_000n);
    assert.equal(nanos('0'), 0n);
    assert.equal(nanos('-1s'), -1_000_000_000n);
    assert.equal(nanos('.5s'), 500_000_000n);
  });
  it('refuses what Go refuses', () => {
    for (const bad of ['', '90', 's', '1x', '1.s.', '1d', ' 1s', '1s ', '--1s', '.s']) {
      assert.equal(typeof nanos(bad), 'string', bad);
    }
    assert.match(nanos('90') as string, /without a unit \(write "90s"/);
    assert.match(nanos('1.5.5s') as string, /is not a duration/);
    assert.match(nanos('1d') as string, /unknown unit "d"/);
    assert.match(nanos('9999999999h') as string, /out of range/);
  });
});

describe('parseCommunity', () => {
  it('reads standard and large communities', () => {
    assert.deepEqual(parseCommunity('65535:65535'), { community: { kind: 'standard', value: 0xffffffff } });
    assert.deepEqual(parseCommunity('large:4294967295:0:1'), { community: { kind: 'large', globalAdmin: 4294967295, localData1: 0, localData2: 1 } });
    const c = parseCommunity('64512:100');
    assert.ok('community' in c && formatCommunity(c.community) === '64512:100');
  });
  it('refuses out-of-range parts and tells values from alias names', () => {
    const over = parseCommunity('65536:1');
    assert.ok('reason' in over && over.looksLikeValue);
    const largeOver = parseCommunity('large:4294967296:1:1');
    assert.ok('reason' in largeOver && largeOver.looksLikeValue);
    const three = parseCommunity('1:2:3');
    assert.ok('reason' in three && three.looksLikeValue);
    const alias = parseCommunity('no-export');
    assert.ok('reason' in alias && !alias.looksLikeValue);
  });
});

describe('Kubernetes names and labels', () => {
  it('checks DNS labels and subdomains', () => {
    assert.equal(checkDNSLabel('metallb-system'), undefined);
    assert.ok(checkDNSLabel('Metallb'));
    assert.ok(checkDNSLabel('a.b'));
    assert.ok(checkDNSLabel('x'.repeat(64)));
    assert.equal(checkDNSSubdomain('first-pool.v2'), undefined);
    assert.ok(checkDNSSubdomain('-pool'));
    assert.ok(checkDNSSubdomain('pool_1'));
  });
  it('checks label keys and values', () => {
    assert.equal(checkLabelKey('app.kubernetes.io/name'), undefined);
    assert.equal(checkLabelKey('zone'), undefined);
    assert.ok(checkLabelKey('/zone'));
    assert.ok(checkLabelKey('Bad_Prefix/zone'));
    assert.ok(checkLabelKey('-zone'));
    assert.equal(checkLabelValue(''), undefined);
    assert.equal(checkLabelValue('a_b.c-d'), undefined);
    assert.ok(checkLabelValue('a b'));
    assert.ok(checkLabelValue('x'.repeat(64)));
  });
});

describe('checkSelector', () => {
  const check = (s: unknown): { selector: unknown; problems: string[] } => {
    const problems: SelectorProblem[] = [];
    const selector = checkSelector(s, ['sel'], problems);
    return { selector, problems: problems.map((p) => `${p.path.join('.')}: ${p.message}`) };
  };
  it('accepts valid selectors', () => {
    assert.deepEqual(check({ matchLabels: { zone: 'a' }, matchExpressions: [{ key: 'rack', operator: 'In', values: ['1', '2'] }, { key: 'x', operator: 'Exists' }] }).problems, []);
    assert.deepEqual(check({}).selector, {});
  });
  it('requires values for In and NotIn and none for Exists and DoesNotExist', () => {
    assert.match(check({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }).problems[0]!, /In needs at least one value/);
    assert.match(check({ matchExpressions: [{ key: 'a', operator: 'NotIn' }] }).problems[0]!, /NotIn needs/);
    assert.match(check({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }).problems[0]!, /takes no values/);
    assert.match(check({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] }).problems[0]!, /takes no values/);
    assert.match(check({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }).problems[0]!, /not a selector operator/);
  });
  it('checks keys and values, naming the field', () => {
    assert.deepEqual(check({ matchLabels: { 'bad key': 'v' } }).problems.map((p) => p.split(':')[0]), ['sel.matchLabels.bad key']);
    assert.match(check({ matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', 'not ok'] }] }).problems[0]!, /^sel\.matchExpressions\.0\.values\.1: /);
  });
  it('gives equal keys to selectors with the same requirements', () => {
    assert.equal(
      selectorKey({ matchLabels: { a: '1', b: '2' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }] }),
      selectorKey({ matchExpressions: [{ key: 'c', operator: 'In', values: ['x', 'y'] }], matchLabels: { b: '2', a: '1' } }),
    );
    assert.notEqual(selectorKey({ matchLabels: { a: '1' } }), selectorKey({ matchLabels: { a: '2' } }));
  });
});
