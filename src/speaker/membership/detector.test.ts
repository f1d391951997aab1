import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FailureDetector, type Report } from './detector.ts';

const S = 150;
const I = 40;
const detector = (node = 'node-a') => new FailureDetector({ node, suspectAfter: S, interval: I });

/** Drives a detector's clock the way the membership driver does: twice per period. */
function advance(d: FailureDetector, from: number, to: number): void {
  for (let t = from; t <= to; t += I / 2) {
    if ((t - from) % I === 0) d.tick(t);
    else d.live(t);
  }
}

test('live while heard within suspectAfter; leaving ends it at once', () => {
  const d = detector();
  d.tick(1000);
  assert.equal(d.heard('node-2', 10n, 1, false, 1000), 'joined');
  assert.equal(d.heard('node-2', 10n, 2, false, 1050), 'refreshed');
  advance(d, 1050, 1175);
  assert.deepEqual(d.live(1199), ['node-2']);
  d.tick(1200);
  assert.deepEqual(d.live(1200), [], 'unheard for 150 ms: dead');
  assert.equal(d.heard('node-2', 10n, 3, false, 1210), 'joined', 'heard again: alive again');
  assert.equal(d.heard('node-2', 10n, 4, true, 1220), 'left');
  assert.deepEqual(d.live(1221), []);
  assert.equal(d.heard('node-2', 10n, 5, false, 1230), 'stale', 'the same process cannot come back after leaving');
  assert.equal(d.heard('node-2', 11n, 1, false, 1240), 'joined', 'a restarted speaker (new incarnation) can');
});

test('changed(): a join, a return through a report, and a leave; not a refresh', () => {
  const d = detector();
  d.heard('node-b', 1n, 1, false, 0);
  assert.equal(d.changed(), true, 'joined');
  assert.equal(d.changed(), false, 'asked once');
  d.heard('node-b', 1n, 2, false, 50, [{ node: 'node-c', incarnation: 3n, age: 5 }]);
  assert.equal(d.changed(), true, 'node-c live through node-b');
  d.heard('node-b', 1n, 3, false, 100, [{ node: 'node-c', incarnation: 3n, age: 5 }]);
  assert.equal(d.changed(), false, 'refreshes only');
  d.heard('node-b', 1n, 4, true, 120);
  assert.equal(d.changed(), true, 'left');
});

test('delayed datagrams from an earlier life or out of order change nothing', () => {
  const d = detector();
  d.heard('node-3', 20n, 5, false, 0);
  assert.equal(d.heard('node-3', 19n, 99, true, 10), 'stale', 'a leave from the previous incarnation');
  assert.deepEqual(d.live(10), ['node-3']);
  assert.equal(d.heard('node-3', 20n, 4, false, 20), 'stale', 'reordered');
});

test('a peer heard only through another member\'s reports is live, and dies when the reports stop', () => {
  const d = detector();
  const viaB = (age: number): Report[] => [{ node: 'node-c', incarnation: 7n, age }];
  for (let t = 0; t <= 1000; t += I) {
    d.tick(t);
    d.heard('node-b', 1n, t / I + 1, false, t, viaB(20));
  }
  assert.deepEqual(d.live(1000), ['node-b', 'node-c'], 'node-c is never heard directly, but node-b hears it');
  assert.equal(d.hearsDirectly('node-c', 1000), false);
  assert.deepEqual(d.reports(1000).map((r) => r.node), ['node-b'], 'only direct evidence is passed on');
  // node-b keeps reporting node-c, with a growing age: node-b stopped hearing it at 980.
  for (let t = 1050; t <= 1300; t += I) {
    d.tick(t);
    d.heard('node-b', 1n, t / I + 1, false, t, t - 980 < S ? viaB(t - 980) : []);
  }
  assert.deepEqual(d.live(1300), ['node-b'], 'node-c unheard by anyone for 150 ms: dead');
});

test('reports cannot revive a life that said goodbye, nor an earlier life; a later one they can', () => {
  const d = detector();
  d.heard('node-c', 5n, 1, false, 0);
  d.heard('node-c', 5n, 2, true, 10);
  d.heard('node-b', 1n, 1, false, 20, [{ node: 'node-c', incarnation: 5n, age: 5 }]);
  d.heard('node-b', 1n, 2, false, 30, [{ node: 'node-c', incarnation: 4n, age: 5 }]);
  assert.deepEqual(d.live(30), ['node-b']);
  d.heard('node-b', 1n, 3, false, 40, [{ node: 'node-c', incarnation: 6n, age: 5 }]);
  assert.deepEqual(d.live(40), ['node-b', 'node-c'], 'node-c restarted, and node-b hears it');
  assert.equal(d.heard('node-c', 6n, 1, false, 45), 'refreshed', 'its first own heartbeat in that life is not stale');
});

test('a peer that stopped reporting this speaker and reports it again is told (it took it for dead)', () => {
  const d = detector('node-a');
  const me = (on: boolean): Report[] => (on ? [{ node: 'node-a', incarnation: 1n, age: 10 }] : []);
  d.heard('node-b', 7n, 1, false, 0, me(false)); // just started: has not heard node-a yet
  d.heard('node-b', 7n, 2, false, 50, me(true));
  assert.deepEqual(d.heardAgain(), [], 'a peer starting up is not a return');
  d.heard('node-b', 7n, 3, false, 100, me(true));
  d.heard('node-b', 7n, 4, false, 150, me(false)); // node-a frozen, or cut off from node-b
  d.heard('node-b', 7n, 5, false, 200, me(false));
  assert.deepEqual(d.heardAgain(), []);
  d.heard('node-b', 7n, 6, false, 250, me(true));
  assert.deepEqual(d.heardAgain(), ['node-b']);
  assert.deepEqual(d.heardAgain(), [], 'told once');
  d.heard('node-b', 7n, 7, false, 300, me(true));
  assert.deepEqual(d.heardAgain(), []);
  d.heard('node-b', 7n, 8, false, 350, me(false));
  d.heard('node-b', 8n, 1, false, 400, me(false)); // then node-b restarted: a new life
  d.heard('node-b', 8n, 2, false, 450, me(true));
  assert.deepEqual(d.heardAgain(), [], 'a restarted peer had not taken anyone for dead');
  d.heard('node-c', 1n, 1, false, 500);
  d.heard('node-c', 1n, 2, false, 550);
  assert.deepEqual(d.heardAgain(), [], 'version 1 heartbeats carry no reports: nothing is inferred');
});

test('hearsMeSince: a heartbeat at or after the time that reports this speaker; not before, not without the report, not after leaving', () => {
  const d = detector('node-a');
  const me = (on: boolean): Report[] => (on ? [{ node: 'node-a', incarnation: 1n, age: 10 }] : []);
  assert.equal(d.hearsMeSince('node-b', 0), false, 'never heard');
  d.heard('node-b', 7n, 1, false, 100, me(true));
  assert.equal(d.hearsMeSince('node-b', 100), true);
  assert.equal(d.hearsMeSince('node-b', 101), false, 'that heartbeat came before the time asked about');
  d.heard('node-b', 7n, 2, false, 200, me(false)); // it lost this speaker
  assert.equal(d.hearsMeSince('node-b', 150), false, 'heard since, but without this speaker in its reports');
  d.heard('node-b', 7n, 3, false, 240, me(true));
  assert.equal(d.hearsMeSince('node-b', 150), true, 'and then with it');
  d.heard('node-c', 1n, 1, false, 300);
  assert.equal(d.hearsMeSince('node-c', 0), false, 'a version 1 heartbeat carries no reports: never taken as hearing this speaker');
  d.heard('node-b', 7n, 4, true, 320, me(true));
  assert.equal(d.hearsMeSince('node-b', 0), false, 'a goodbye');
});

test('a stall of this speaker is not the peers\' silence: nobody is dead when it wakes', () => {
  const d = detector();
  for (let t = 0; t <= 500; t += I) {
    d.tick(t);
    d.heard('node-b', 1n, t / I + 1, false, t);
  }
  // Frozen for 10 s (SIGSTOP, a starved CPU): the first thing to run is a timer.
  d.tick(10_500);
  assert.deepEqual(d.live(10_500), ['node-b'], 'silence while this speaker was not looking does not count');
  assert.ok(d.stalled >= 9_900, `stalled ${d.stalled}`);
  assert.deepEqual(d.reports(10_500), [], 'but it does not vouch for node-b to others: it has not heard it for 10 s');
  d.heard('node-b', 1n, 100, false, 10_501);
  assert.deepEqual(d.live(10_501), ['node-b']);
  // Dead after a real silence once it runs again (the stall cost one step of health:
  // 300 ms of silence now, until ten on-time ticks earn it back).
  assert.equal(d.timeout, 2 * S);
  advance(d, 10_525, 10_850);
  assert.deepEqual(d.live(10_850), []);
});

test('a member found dead stays dead when the timeout widens afterwards, until it is heard again', () => {
  const d = detector();
  d.tick(0);
  d.heard('node-b', 1n, 1, false, 0);
  advance(d, 0, 200);
  assert.deepEqual(d.live(200), [], 'unheard for 150 ms: dead');
  // This speaker now runs late (the takeover's own work, say): health goes up, and
  // the old evidence would be within the wider timeout.
  let t = 200;
  for (let k = 0; k < 3; k++) d.tick((t += I + 30));
  assert.ok(d.health >= 2 && d.timeout > t - 0 - d.stalled, `health ${d.health}, timeout ${d.timeout}`);
  assert.deepEqual(d.live(t), [], 'not brought back by a wider timeout on the same evidence');
  d.heard('node-b', 1n, 2, false, t + 5);
  assert.deepEqual(d.live(t + 5), ['node-b'], 'a fresh heartbeat brings it back');
});

test('local health: late ticks widen the timeout, steady ticks narrow it back', () => {
  const d = detector();
  d.tick(0);
  assert.equal(d.timeout, S);
  d.tick(I + 30); // 30 ms late: more than half a period
  assert.equal(d.health, 1);
  assert.equal(d.timeout, 2 * S);
  let t = I + 30;
  for (let k = 0; k < 10; k++) d.tick((t += I + 200)); // wildly late, past the cap
  assert.equal(d.health, 4, 'capped');
  for (let k = 0; k < 10 * 4; k++) d.tick((t += I));
  assert.equal(d.health, 0, 'back to normal after 10 on-time ticks per step');
});

// A model of N speakers: heartbeats every I ms with jitter, random loss and delay on
// each datagram, and whatever partitions and failures a case names. Each speaker's
// detector is driven as the membership driver drives it. Events run in time order.
interface Net {
  readonly n: number;
  /** Probability a datagram is lost. */
  readonly loss: number;
  /** A datagram from i to j is dropped when blocked(i, j, t). */
  readonly blocked?: (from: number, to: number, t: number) => boolean;
  /** Node i sends and ticks nothing in [stop, resume) (resume Infinity: crashed). */
  readonly down?: ReadonlyMap<number, { readonly stop: number; readonly resume: number }>;
  readonly until: number;
  readonly seed: number;
}

/** Runs the model; returns every (time, node, live set) each speaker evaluated. */
function simulate(net: Net): { t: number; node: number; live: string[] }[] {
  let rnd = net.seed >>> 0 || 1;
  const random = () => ((rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const names = Array.from({ length: net.n }, (_, i) => `node-${i}`);
  const ds = names.map((name) => detector(name));
  const seq = names.map(() => 0);
  type Ev = { t: number; kind: 'tick' | 'eval' | 'recv'; node: number; from?: number; s?: number; reports?: Report[] };
  const queue: Ev[] = [];
  const push = (e: Ev) => {
    let i = queue.length;
    while (i > 0 && queue[i - 1]!.t > e.t) i--;
    queue.splice(i, 0, e);
  };
  for (let i = 0; i < net.n; i++) push({ t: random() * I, kind: 'tick', node: i });
  const out: { t: number; node: number; live: string[] }[] = [];
  const paused = (i: number, t: number) => {
    const d = net.down?.get(i);
    return d !== undefined && t >= d.stop && t < d.resume;
  };
  while (queue.length > 0) {
    const e = queue.shift()!;
    if (e.t > net.until) break;
    const d = net.down?.get(e.node);
    if (d && paused(e.node, e.t)) {
      // A stalled process runs its events when it resumes: timers first, then the
      // datagrams queued for it (libuv's order); a crashed one never does.
      if (d.resume !== Infinity) push({ ...e, t: d.resume + (e.kind === 'recv' ? 0.5 : 0) });
      continue;
    }
    const me = ds[e.node]!;
    if (e.kind === 'recv') {
      me.heard(names[e.from!]!, BigInt(e.from! + 1), e.s!, false, e.t, e.reports);
      continue;
    }
    if (e.kind === 'tick') {
      me.tick(e.t);
      const reports = me.reports(e.t);
      seq[e.node]!++;
      for (let j = 0; j < net.n; j++) {
        if (j === e.node || random() < net.loss || net.blocked?.(e.node, j, e.t)) continue;
        push({ t: e.t + 0.1 + random() * 3, kind: 'recv', node: j, from: e.node, s: seq[e.node]!, reports });
      }
      push({ t: e.t + I / 2, kind: 'eval', node: e.node });
      push({ t: e.t + I + random() * 5, kind: 'tick', node: e.node });
    }
    out.push({ t: e.t, node: e.node, live: [names[e.node]!, ...me.live(e.t)].sort() });
  }
  return out;
}

const everyone = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`).sort();

test('property: under 5% loss, jitter and delay, no running speaker is ever declared dead', () => {
  fc.assert(fc.property(fc.integer({ min: 3, max: 6 }), fc.integer(), (n, seed) => {
    const views = simulate({ n, loss: 0.05, until: 5000, seed });
    for (const v of views) if (v.t > 300) assert.deepEqual(v.live, everyone(n), `node-${v.node} at ${v.t.toFixed(0)} ms`);
  }), { numRuns: 25 });
});

test('property: one-way and partial partitions of the membership traffic change no live set while every pair has a path through one other member', () => {
  fc.assert(fc.property(fc.integer({ min: 3, max: 6 }), fc.integer(), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 8 }), (n, seed, cuts) => {
    const blocked = new Set(cuts.map(([a, b]) => `${a % n}>${b % n}`));
    const ok = (a: number, b: number) => a === b || !blocked.has(`${a}>${b}`);
    // The case holds only when every j hears every i, directly or through some k.
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (i !== j && !ok(i, j) && !Array.from({ length: n }, (_, k) => k).some((k) => k !== i && k !== j && ok(i, k) && ok(k, j))) return;
    }
    const views = simulate({ n, loss: 0, until: 3000, seed, blocked: (a, b, t) => t > 500 && blocked.has(`${a}>${b}`) });
    for (const v of views) if (v.t > 300) assert.deepEqual(v.live, everyone(n), `node-${v.node} at ${v.t.toFixed(0)} ms with ${[...blocked].join(' ')} cut`);
  }), { numRuns: 60 });
});

test('property: a crashed speaker is dead to every other within suspectAfter + one period + delays, and stays dead', () => {
  fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), fc.integer(), fc.integer({ min: 400, max: 2000 }), (n, seed, at) => {
    const views = simulate({ n, loss: 0, until: at + 1500, seed, down: new Map([[0, { stop: at, resume: Infinity }]]) });
    for (const v of views) {
      if (v.node === 0 || v.t < 300) continue;
      const sees = v.live.includes('node-0');
      if (v.t >= at + S + I + 10) assert.ok(!sees, `node-${v.node} still sees node-0 at ${v.t.toFixed(0)} ms (crash at ${at})`);
      if (v.t < at + S - I - 10) assert.ok(sees, `node-${v.node} lost node-0 at ${v.t.toFixed(0)} ms, before it crashed at ${at} (+ suspectAfter)`);
    }
  }), { numRuns: 40 });
});

test('property: a speaker frozen and thawed declares no one dead; the others saw it dead and see it back', () => {
  fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.integer(), fc.integer({ min: 200, max: 5000 }), (n, seed, length) => {
    const stop = 800;
    const views = simulate({ n, loss: 0, until: stop + length + 1000, seed, down: new Map([[0, { stop, resume: stop + length }]]) });
    for (const v of views) {
      if (v.t < 300) continue;
      if (v.node === 0) assert.deepEqual(v.live, everyone(n), `the thawed node-0 at ${v.t.toFixed(0)} ms (frozen ${stop}..${stop + length})`);
      else if (v.t > stop + length + 200) assert.deepEqual(v.live, everyone(n), `node-${v.node} at ${v.t.toFixed(0)} ms, after node-0 came back`);
      else if (length > S + I + 10 && v.t > stop + S + I + 10 && v.t < stop + length) assert.ok(!v.live.includes('node-0'), `node-${v.node} at ${v.t.toFixed(0)} ms still sees the frozen node-0`);
    }
  }), { numRuns: 40 });
});
