import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probesOf, summarize } from '../../bench/announcers.ts';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const reply = (mac: string, index: number) => `42 bytes from ${mac.toUpperCase()} (198.18.0.200): index=${index} time=9.3 usec`;

test("arping's lines as probes: one index with two MACs is two answerers, a Timeout the next index with none", () => {
  const lines = [
    'ARPING 198.18.0.200',
    reply(A, 0),
    reply(A, 1),
    reply(B, 1),
    'Timeout',
    'Timeout',
    reply(B, 4),
    '',
    '--- 198.18.0.200 statistics ---',
    '5 packets transmitted, 4 packets received,  20% unanswered (1 extra)',
  ].map((text, i) => ({ text, at: i * 100 }));
  assert.deepEqual(probesOf(lines), [
    { index: 0, at: 100, macs: [A] },
    { index: 1, at: 200, macs: [A, B] },
    { index: 2, at: 400, macs: [] },
    { index: 3, at: 500, macs: [] },
    { index: 4, at: 600, macs: [B] },
  ]);
});

test('the summary: counts, the longest runs of several and of none, and the moves of the single answerer', () => {
  const p = (at: number, ...macs: string[]) => ({ index: at / 100, at, macs });
  const probes = [p(0, A), p(100, A, B), p(200, A, B), p(300, A), p(400), p(500), p(600), p(700, B), p(800, B), p(900, A, B)];
  assert.deepEqual(summarize(probes), { probes: 10, one: 4, none: 3, several: 3, longestSeveralMs: 200, longestNoneMs: 300, moves: 1 });
  assert.deepEqual(summarize([p(0, A), p(100, A)]), { probes: 2, one: 2, none: 0, several: 0, longestSeveralMs: 0, longestNoneMs: 0, moves: 0 });
});
