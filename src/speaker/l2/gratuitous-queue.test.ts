// The gratuitous schedule and its per-interface budget, with time as plain numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_QUEUE_OPTIONS, GratuitousQueue } from './gratuitous-queue.ts';

test('an announcement goes out at once and then on the schedule, and ends', () => {
  const q = new GratuitousQueue();
  q.announce('198.18.0.200', 'eth0', 2, 1000);
  assert.deepEqual(q.take(1000), [{ ip: '198.18.0.200', ifname: 'eth0', round: 0 }]);
  assert.equal(q.nextAt(1000), 1500);
  assert.deepEqual(q.take(1499), []);
  const sent: number[] = [];
  for (let t = 1000; t <= 10_000; t++) if (q.take(t).length > 0) sent.push(t - 1000);
  assert.deepEqual(sent, DEFAULT_QUEUE_OPTIONS.schedule.slice(1));
  assert.equal(q.size, 0);
  assert.equal(q.nextAt(10_000), undefined);
});

test('announcing again restarts the schedule; cancelling drops it', () => {
  const q = new GratuitousQueue({ schedule: [0, 500, 1000], ratePerSecond: 1000, burst: 10 });
  q.announce('2001:db8:18::200', 'eth0', 1, 0);
  q.take(0);
  q.take(500);
  q.announce('2001:db8:18::200', 'eth0', 1, 700);
  assert.deepEqual(q.take(700).map((d) => d.round), [0], 'round 0 again');
  assert.equal(q.nextAt(700), 1200);
  q.cancel('2001:db8:18::200', 'eth0');
  assert.equal(q.nextAt(700), undefined);
});

test('a refresh is one announcement, behind every first announcement, and none while a schedule runs', () => {
  const q = new GratuitousQueue({ schedule: [0, 500, 1000], ratePerSecond: 1000, burst: 2 });
  q.refresh('198.18.0.200', 'eth0', 2, 0);
  q.announce('198.18.0.201', 'eth0', 2, 0);
  // Budget for one IPv4 announcement: the takeover goes first, the refresh waits.
  assert.deepEqual(q.take(0), [{ ip: '198.18.0.201', ifname: 'eth0', round: 0 }]);
  assert.deepEqual(q.take(2), [{ ip: '198.18.0.200', ifname: 'eth0', round: 2 }]);
  // Sent once: only the takeover's repeats remain.
  const later: string[] = [];
  for (let t = 3; t <= 5000; t++) for (const d of q.take(t)) later.push(`${d.ip}@${t}`);
  assert.deepEqual(later, ['198.18.0.201@500', '198.18.0.201@1000']);
  // While a schedule runs, a refresh adds nothing (and does not restart it).
  q.announce('198.18.0.202', 'eth0', 2, 6000);
  q.take(6000);
  q.refresh('198.18.0.202', 'eth0', 2, 6100);
  assert.equal(q.nextAt(6100), 6500);
  assert.deepEqual(q.take(6500).map((d) => d.round), [1]);
});

test('a thousand IPv4 takeovers fit the burst; three thousand are paced at the rate, first rounds before repeats', () => {
  const q = new GratuitousQueue();
  for (let i = 0; i < 1000; i++) q.announce(`198.18.1.${i}`, 'eth0', 2, 0);
  assert.equal(q.take(0).length, 1000, '2,000 frames: one burst');
  const big = new GratuitousQueue();
  for (let i = 0; i < 3000; i++) big.announce(`198.18.2.${i}`, 'eth0', 2, 0);
  const firstAt = new Map<string, number>();
  let repeatBeforeAllFirst = false;
  for (let t = 0; t <= 2000; t++) {
    for (const d of big.take(t)) {
      if (d.round === 0) firstAt.set(d.ip, t);
      else if (firstAt.size < 3000) repeatBeforeAllFirst = true;
    }
  }
  assert.equal(firstAt.size, 3000);
  // 6,000 frames: 2,000 at once, 4,000 more at 10,000 frames/s.
  assert.equal(Math.max(...firstAt.values()), 400);
  assert.equal(repeatBeforeAllFirst, false);
});

test('the budget is per interface', () => {
  const q = new GratuitousQueue({ schedule: [0], ratePerSecond: 1000, burst: 4 });
  for (let i = 0; i < 4; i++) q.announce(`198.18.0.${i}`, 'eth0', 2, 0);
  for (let i = 0; i < 4; i++) q.announce(`198.18.0.${i}`, 'eth1', 2, 0);
  const now = q.take(0);
  assert.deepEqual(now.map((d) => d.ifname).sort(), ['eth0', 'eth0', 'eth1', 'eth1']);
  assert.equal(q.nextAt(0), 2, 'two frames refill in 2 ms at 1,000/s');
});

test('property: never more frames per interface than burst + rate x elapsed; every announcement sent once per round', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ ip: fc.integer({ min: 0, max: 50 }), ifname: fc.constantFrom('eth0', 'eth1'), v6: fc.boolean(), at: fc.integer({ min: 0, max: 3000 }) }), { maxLength: 200 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 100, max: 5000 }),
      (ops, burst, rate) => {
        const schedule = [0, 300, 900];
        const q = new GratuitousQueue({ schedule, ratePerSecond: rate, burst: Math.max(2, burst) });
        const sorted = [...ops].sort((a, b) => a.at - b.at);
        const frames = new Map<string, number>();
        const rounds = new Map<string, number[]>();
        let i = 0;
        for (let t = 0; t <= 20_000; t++) {
          for (; i < sorted.length && sorted[i]!.at <= t; i++) {
            const o = sorted[i]!;
            const ip = o.v6 ? `2001:db8::${o.ip}` : `198.18.0.${o.ip}`;
            q.announce(ip, o.ifname, o.v6 ? 1 : 2, t);
            rounds.set(`${ip}%${o.ifname}`, []);
          }
          for (const d of q.take(t)) {
            frames.set(d.ifname, (frames.get(d.ifname) ?? 0) + (d.ip.includes(':') ? 1 : 2));
            rounds.get(`${d.ip}%${d.ifname}`)!.push(d.round);
          }
          for (const [ifname, n] of frames) assert.ok(n <= Math.max(2, burst) + (rate * t) / 1000 + 1e-9, `${ifname}: ${n} frames by ${t} ms`);
          if (i >= sorted.length && q.size === 0) break;
        }
        assert.equal(q.size, 0, 'everything sent within 20 s');
        for (const [k, r] of rounds) assert.deepEqual(r, [0, 1, 2], k);
      },
    ),
    { numRuns: 150 },
  );
});

/**
 * The queue as its documentation states it, with none of its data structures: at each
 * take, every current entry that is due, per interface in priority order (first
 * announcements, then repeats by round, then refreshes; within one, by due time, then
 * by arrival in that round), sent while the budget lasts and stopping at the first that
 * does not fit.
 */
class Model {
  readonly #entries = new Map<string, { ip: string; ifname: string; frames: number; start: number; round: number; lane: number; arrived: number }>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #arrivals = 0;
  readonly opts: { schedule: number[]; ratePerSecond: number; burst: number };
  constructor(opts: { schedule: number[]; ratePerSecond: number; burst: number }) {
    this.opts = opts;
  }
  #bucket(ifname: string, now: number) {
    let b = this.#buckets.get(ifname);
    if (!b) this.#buckets.set(ifname, (b = { tokens: this.opts.burst, at: now }));
    if (now > b.at) {
      b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) * this.opts.ratePerSecond) / 1000);
      b.at = now;
    }
    return b;
  }
  announce(ip: string, ifname: string, frames: number, now: number) {
    this.#bucket(ifname, now);
    this.#entries.set(`${ip}%${ifname}`, { ip, ifname, frames: Math.min(frames, this.opts.burst), start: now, round: 0, lane: 0, arrived: this.#arrivals++ });
  }
  refresh(ip: string, ifname: string, frames: number, now: number) {
    if (this.#entries.has(`${ip}%${ifname}`)) return;
    this.#bucket(ifname, now);
    const last = this.opts.schedule.length - 1;
    this.#entries.set(`${ip}%${ifname}`, { ip, ifname, frames: Math.min(frames, this.opts.burst), start: now - this.opts.schedule[last]!, round: last, lane: last + 1, arrived: this.#arrivals++ });
  }
  cancel(ip: string, ifname: string) {
    this.#entries.delete(`${ip}%${ifname}`);
  }
  take(now: number) {
    const dueAt = (e: { start: number; round: number }) => e.start + this.opts.schedule[e.round]!;
    const due = [...this.#entries.values()].filter((e) => dueAt(e) <= now).sort((a, b) => a.lane - b.lane || dueAt(a) - dueAt(b) || a.arrived - b.arrived);
    const out: { ip: string; ifname: string; round: number }[] = [];
    const blocked = new Set<string>();
    const moved: typeof due = [];
    for (const e of due) {
      const b = this.#bucket(e.ifname, now);
      if (blocked.has(e.ifname)) continue;
      if (b.tokens < e.frames) {
        blocked.add(e.ifname);
        continue;
      }
      b.tokens -= e.frames;
      out.push({ ip: e.ip, ifname: e.ifname, round: e.round });
      e.round++;
      if (e.round >= this.opts.schedule.length) this.#entries.delete(`${e.ip}%${e.ifname}`);
      else moved.push(e);
    }
    for (const e of moved) Object.assign(e, { lane: e.round, arrived: this.#arrivals++ });
    return out;
  }
}

test('property: the queue sends what its model sends, and nothing becomes due before nextAt', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ op: fc.constantFrom('announce', 'announce', 'announce', 'refresh', 'cancel'), ip: fc.integer({ min: 0, max: 30 }), ifname: fc.constantFrom('eth0', 'eth1'), v6: fc.boolean(), at: fc.integer({ min: 0, max: 2000 }) }),
        { maxLength: 300 },
      ),
      fc.integer({ min: 2, max: 12 }),
      fc.integer({ min: 100, max: 4000 }),
      (ops, burst, rate) => {
        const opts = { schedule: [0, 200, 700], ratePerSecond: rate, burst };
        const q = new GratuitousQueue(opts);
        const m = new Model(opts);
        const sorted = [...ops].sort((a, b) => a.at - b.at);
        let i = 0;
        let next: number | undefined;
        for (let t = 0; t <= 20_000; t++) {
          const before = i;
          for (; i < sorted.length && sorted[i]!.at <= t; i++) {
            const o = sorted[i]!;
            const ip = o.v6 ? `2001:db8::${o.ip}` : `198.18.0.${o.ip}`;
            if (o.op === 'cancel') {
              q.cancel(ip, o.ifname);
              m.cancel(ip, o.ifname);
            } else {
              q[o.op](ip, o.ifname, o.v6 ? 1 : 2, t);
              m[o.op](ip, o.ifname, o.v6 ? 1 : 2, t);
            }
          }
          const got = q.take(t);
          // Per interface, in order (the order between interfaces is not promised).
          const byInterface = (out: readonly { ifname: string }[]) => [...out].sort((a, b) => (a.ifname < b.ifname ? -1 : a.ifname > b.ifname ? 1 : 0));
          assert.deepEqual(byInterface(got), byInterface(m.take(t)), `take(${t})`);
          if (i === before && next !== undefined) {
            if (t < next) assert.deepEqual(got, [], `nothing before nextAt ${next} (at ${t})`);
            if (t === next) assert.ok(got.length > 0, `something at nextAt ${next}`);
          }
          next = q.nextAt(t);
          if (next !== undefined) assert.ok(next > t, `nextAt ${next} after take(${t})`);
          if (i >= sorted.length && q.size === 0) break;
        }
        assert.equal(q.size, 0, 'everything sent within 20 s');
      },
    ),
    { numRuns: 150 },
  );
});
