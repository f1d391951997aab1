import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, LOG_LEVELS } from './logging.ts';

function capture(level: string) {
  const lines: string[] = [];
  const log = createLogger('speaker', level, (line) => lines.push(line));
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a line is one JSON object in pino shape: numeric level, ISO time, component, fields, msg', () => {
  const { log, lines, parsed } = capture('info');
  log.info({ node: 'node-a', ips: 3 }, 'caches synced');
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n') && !lines[0]!.slice(0, -1).includes('\n'), 'one line');
  const [line] = parsed();
  assert.deepEqual(Object.keys(line!), ['level', 'time', 'component', 'node', 'ips', 'msg']);
  assert.equal(line!.level, 30);
  assert.ok(!Number.isNaN(Date.parse(line!.time as string)) && (line!.time as string).endsWith('Z'));
  assert.deepEqual({ ...line, time: undefined }, { level: 30, time: undefined, component: 'speaker', node: 'node-a', ips: 3, msg: 'caches synced' });
});

test('a message alone, and the level numbers pino uses', () => {
  const { log, parsed } = capture('trace');
  log.trace('t');
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  log.fatal('f');
  assert.deepEqual(
    parsed().map((l) => [l.level, l.msg]),
    [[10, 't'], [20, 'd'], [30, 'i'], [40, 'w'], [50, 'e'], [60, 'f']],
  );
});

test('lines below the level are not written', () => {
  for (const [i, level] of LOG_LEVELS.entries()) {
    const { log, parsed } = capture(level);
    for (const l of LOG_LEVELS) log[l]({}, l);
    // LOG_LEVELS runs from the most severe down, so level i keeps the first i+1.
    assert.deepEqual(parsed().map((l) => l.msg), LOG_LEVELS.slice(0, i + 1), level);
  }
});

test('child loggers add their bindings after the parent\'s and keep its level', () => {
  const { log, parsed } = capture('warn');
  const peer = log.child({ peer: 'router', address: '198.18.0.1' });
  peer.info('not written');
  peer.warn({ state: 'idle' }, 'session down');
  peer.child({ family: 'ipv6' }).error('x');
  assert.deepEqual(parsed().map(({ time: _t, ...rest }) => rest), [
    { level: 40, component: 'speaker', peer: 'router', address: '198.18.0.1', state: 'idle', msg: 'session down' },
    { level: 50, component: 'speaker', peer: 'router', address: '198.18.0.1', family: 'ipv6', msg: 'x' },
  ]);
});

test('fields that JSON cannot write still give a line: Errors, bigints, cycles, quotes', () => {
  const { log, parsed } = capture('info');
  const err = new RangeError('bad "thing"\nsecond line');
  log.error({ err, asn: 4200000000n }, 'a "quoted"\nmessage');
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  log.warn(cyclic, 'cycle');
  const [first, second] = parsed();
  assert.deepEqual((first!.err as Record<string, unknown>).type, 'RangeError');
  assert.equal((first!.err as Record<string, unknown>).message, 'bad "thing"\nsecond line');
  assert.match((first!.err as Record<string, unknown>).stack as string, /RangeError/);
  assert.equal(first!.asn, '4200000000');
  assert.equal(first!.msg, 'a "quoted"\nmessage');
  assert.match(second!.logFieldsUnwritable as string, /circular/i);
  assert.deepEqual(second!.keys, ['a', 'self']);
  assert.equal(second!.msg, 'cycle');
});

test('an unknown level is refused with the list', () => {
  assert.throws(() => createLogger('controller', 'verbose'), /--log-level must be one of fatal, error, warn, info, debug, trace, not "verbose"/);
});
