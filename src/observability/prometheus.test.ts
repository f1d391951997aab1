// The text exposition, byte for byte where it matters to a scraper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counter, Gauge, Histogram, Registry, processMetrics } from './prometheus.ts';

test('counters, gauges and histograms in the text format, labels in declared order, removed series gone', () => {
  const r = new Registry();
  const c = new Counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['ip', 'node'], registers: [r] });
  const g = new Gauge({ name: 'x_up', help: 'Up.', registers: [r] });
  const h = new Histogram({ name: 'x_seconds', help: 'Latency.', labelNames: ['verb'], buckets: [0.5, 0.1], registers: [r] });
  c.inc({ node: 'node-1', ip: '198.18.0.200' });
  c.inc({ ip: '198.18.0.200', node: 'node-1' }, 2);
  c.inc({ ip: '198.18.0.201', node: 'node-2' });
  c.remove({ ip: '198.18.0.201', node: 'node-2' });
  h.observe({ verb: 'GET' }, 0.05);
  h.observe({ verb: 'GET' }, 0.3);
  h.observe({ verb: 'GET' }, 7);
  assert.equal(
    r.metrics(),
    [
      '# HELP x_requests_total Requests.',
      '# TYPE x_requests_total counter',
      'x_requests_total{ip="198.18.0.200",node="node-1"} 3',
      '# HELP x_up Up.',
      '# TYPE x_up gauge',
      'x_up 0',
      '# HELP x_seconds Latency.',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{verb="GET",le="0.1"} 1',
      'x_seconds_bucket{verb="GET",le="0.5"} 2',
      'x_seconds_bucket{verb="GET",le="+Inf"} 3',
      'x_seconds_sum{verb="GET"} 7.35',
      'x_seconds_count{verb="GET"} 3',
      '',
    ].join('\n'),
  );
  g.set(1);
  assert.match(r.metrics(), /^x_up 1$/m);
});

test('label values and help text are escaped; wrong use is refused', () => {
  const r = new Registry();
  const g = new Gauge({ name: 'x_info', help: 'A \\ back\nslash.', labelNames: ['v'], registers: [r] });
  g.set({ v: 'a"b\\c\nd' }, 1);
  assert.match(r.metrics(), /^# HELP x_info A \\\\ back\\nslash\.$/m);
  assert.match(r.metrics(), /^x_info\{v="a\\"b\\\\c\\nd"\} 1$/m);
  assert.throws(() => g.set({ w: 'x' } as never, 1), /no label "w"/);
  assert.throws(() => new Counter({ name: 'x_info', help: '', registers: [r] }), /registered twice/);
  assert.throws(() => new Counter({ name: 'bad-name', help: '' }), /not a Prometheus name/);
  assert.throws(() => new Counter({ name: 'x_c', help: '' }).inc(-1), /cannot decrease/);
});

test('property: every line is a comment or `name{labels} value`, whatever the label values', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string(), fc.double({ noNaN: false })), { maxLength: 20 }), (series) => {
      const r = new Registry();
      const g = new Gauge({ name: 'x_g', help: 'G.', labelNames: ['v'], registers: [r] });
      for (const [v, n] of series) g.set({ v }, n);
      for (const line of r.metrics().split('\n').filter((l) => l !== '')) {
        assert.match(line, /^(# (HELP|TYPE) x_g .*|x_g(\{v="([^"\\\n]|\\["\\n])*"\})? (NaN|[+-]Inf|-?[0-9.e+-]+))$/, line);
      }
    }),
  );
});

test('process metrics: CPU, memory, start time, descriptors, event loop', () => {
  const r = new Registry();
  processMetrics(r, 'ferrolb_');
  const text = r.metrics();
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
    const m = new RegExp(`^ferrolb_${name} ([0-9.e+]+)$`, 'm').exec(text);
    assert.ok(m, `${name} in ${text}`);
  }
  assert.ok(Number(/^ferrolb_process_resident_memory_bytes (\d+)/m.exec(text)![1]) > 1e6);
  assert.ok(Math.abs(Number(/^ferrolb_process_start_time_seconds (\d+)/m.exec(text)![1]) - Date.now() / 1000) < 3600);
});
