import { test } from 'node:test';
import assert from 'node:assert/strict';
import { irregularRuns, probesFrom, summarize } from '../../bench/announcers.ts';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
test('replies belong to the last request sent before them: two MACs after one request are two answerers, none before the next is nobody', () => {
  const sent = [0, 100, 200, 300, 400];
  const replies = [
    { at: 0.2, mac: A.toUpperCase() },
    { at: 100.1, mac: A },
    { at: 100.3, mac: B },
    { at: 399.9, mac: B }, // late, but before the next request: still the request at 300
    { at: -5, mac: A }, // before the first request: no request's
  ];
  assert.deepEqual(probesFrom(sent, replies), [
    { index: 0, at: 0, macs: [A] },
    { index: 1, at: 100, macs: [A, B] },
    { index: 2, at: 200, macs: [] },
    { index: 3, at: 300, macs: [B] },
    { index: 4, at: 400, macs: [] },
  ]);
});

test('the summary: counts, the longest runs of several and of none, and the moves of the single answerer', () => {
  const p = (at: number, ...macs: string[]) => ({ index: at / 100, at, macs });
  const probes = [p(0, A), p(100, A, B), p(200, A, B), p(300, A), p(400), p(500), p(600), p(700, B), p(800, B), p(900, A, B)];
  assert.deepEqual(summarize(probes), { probes: 10, one: 4, none: 3, several: 3, longestSeveralMs: 200, longestNoneMs: 300, moves: 1 });
  assert.deepEqual(summarize([p(0, A), p(100, A)]), { probes: 2, one: 2, none: 0, several: 0, longestSeveralMs: 0, longestNoneMs: 0, moves: 0 });
});

test('the runs not answered by exactly one: start, length, who answered', () => {
  const p = (at: number, ...macs: string[]) => ({ index: at / 100, at: at + 1000, macs });
  assert.deepEqual(irregularRuns([p(0, A), p(100, A, B), p(200), p(300, B), p(400)]), [
    { fromMs: 100, ms: 200, macs: [A, B] },
    { fromMs: 400, ms: 0, macs: [] },
  ]);
});
