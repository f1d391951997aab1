import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatUnreachable, parseUnreachable, sameUnreachable, unreachablePeers } from './reachability.ts';

describe('unreachable peers', () => {
  const t0 = Date.parse('2026-12-01T23:40:00Z');

  it('lists the peers not live, never this node, in name order, keeping when each was first missed', () => {
    const first = unreachablePeers('node-1', ['node-3', 'node-1', 'node-2'], new Set(['node-1']), [], t0);
    assert.deepEqual(first, [{ node: 'node-2', since: t0 }, { node: 'node-3', since: t0 }]);
    // node-2 comes back, node-3 stays missing: its `since` is kept.
    const second = unreachablePeers('node-1', ['node-1', 'node-2', 'node-3'], new Set(['node-1', 'node-2']), first, t0 + 5000);
    assert.deepEqual(second, [{ node: 'node-3', since: t0 }]);
    // node-2 lost again: a new `since`.
    const third = unreachablePeers('node-1', ['node-1', 'node-2', 'node-3'], new Set(['node-1']), second, t0 + 9000);
    assert.deepEqual(third, [{ node: 'node-2', since: t0 + 9000 }, { node: 'node-3', since: t0 }]);
    assert.equal(sameUnreachable(second, second.slice()), true);
    assert.equal(sameUnreachable(second, third), false);
  });

  it('a node gone from the cluster is not reported', () => {
    assert.deepEqual(unreachablePeers('node-1', ['node-1'], new Set(['node-1']), [{ node: 'node-2', since: t0 }], t0), []);
  });

  it('the message round-trips, to the second', () => {
    const list = [{ node: 'node-2', since: t0 }, { node: 'worker.example', since: t0 + 61_000 }];
    const text = formatUnreachable(list);
    assert.equal(text, 'node-2 since 2026-12-01T23:40:00Z, worker.example since 2026-12-01T23:41:01Z');
    assert.deepEqual(parseUnreachable(text), list);
    assert.deepEqual(parseUnreachable(''), []);
    assert.deepEqual(parseUnreachable('garbage since yesterday, node-2 since 2026-12-01T23:40:00Z'), [{ node: 'node-2', since: t0 }]);
  });

  it('a long list is cut, saying how many more', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ node: `n${String(i).padStart(2, '0')}`, since: t0 }));
    const text = formatUnreachable(many);
    assert.match(text, /, and 10 more$/);
    assert.equal(parseUnreachable(text).length, 50);
  });
});
