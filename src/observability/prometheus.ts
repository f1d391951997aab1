// The Prometheus text exposition format (version 0.0.4), written here rather than
// imported: counters, gauges and histograms with labels, and the process's own figures.
// prom-client, which did this before, costs every ferrolb process about 9 MB of resident
// memory at import (it loads OpenTelemetry's API for exemplars and keeps summaries'
// digests), measured in docs/BENCHMARKS.md "Footprint"; the speaker runs on every node.
//
// Format: https://prometheus.io/docs/instrumenting/exposition_formats/ (HELP and TYPE
// lines, one sample per line `name{label="value"} number`, label values escaping \, "
// and newline, HELP escaping \ and newline; histograms as cumulative `_bucket` samples
// with `le`, ending at +Inf, then `_sum` and `_count`).
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

type Labels<L extends string> = Partial<Record<L, string | number>>;

interface Family {
  readonly name: string;
  render(): string;
}

export class Registry {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  readonly #families: Family[] = [];
  readonly #collectors: (() => void)[] = [];

  register(family: Family): void {
    if (this.#families.some((f) => f.name === family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.#families.push(family);
  }

  /** Runs before every scrape, to refresh gauges read from the process. */
  beforeScrape(collect: () => void): void {
    this.#collectors.push(collect);
  }

  metrics(): string {
    for (const collect of this.#collectors) collect();
    return this.#families.map((f) => f.render()).join('');
  }
}

interface Options<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly registers?: readonly Registry[];
}

abstract class Metric<L extends string> implements Family {
  readonly name: string;
  readonly #help: string;
  readonly #type: string;
  protected readonly labelNames: readonly L[];

  constructor(opts: Options<L>, type: string) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(opts.name)) throw new Error(`metric name "${opts.name}" is not a Prometheus name`);
    this.name = opts.name;
    this.#help = opts.help;
    this.#type = type;
    this.labelNames = opts.labelNames ?? [];
    for (const r of opts.registers ?? []) r.register(this);
  }

  /** A series' key: its label values in declared order (the order they are written in). */
  protected key(labels: Labels<L> | undefined): string {
    for (const name of Object.keys(labels ?? {})) if (!(this.labelNames as readonly string[]).includes(name)) throw new Error(`metric ${this.name} has no label "${name}"`);
    return JSON.stringify(this.labelNames.map((n) => String(labels?.[n] ?? '')));
  }

  protected labelText(key: string, extra?: [string, string]): string {
    const values = JSON.parse(key) as string[];
    const pairs = this.labelNames.map((n, i) => [n, values[i]!] as [string, string]).filter(([, v]) => v !== '');
    if (extra) pairs.push(extra);
    return pairs.length === 0 ? '' : `{${pairs.map(([n, v]) => `${n}="${escapeLabel(v)}"`).join(',')}}`;
  }

  protected header(): string {
    return `# HELP ${this.name} ${this.#help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}\n# TYPE ${this.name} ${this.#type}\n`;
  }

  abstract render(): string;
}

abstract class ValueMetric<L extends string> extends Metric<L> {
  protected readonly values = new Map<string, number>();

  /** Forgets one series (a service no longer announced): it is no longer exposed. */
  remove(labels: Labels<L>): void {
    this.values.delete(this.key(labels));
  }

  reset(): void {
    this.values.clear();
  }

  render(): string {
    // A family without labels shows 0 before its first change, as Prometheus clients do.
    if (this.values.size === 0 && this.labelNames.length === 0) this.values.set(this.key(undefined), 0);
    let out = this.header();
    for (const [key, value] of this.values) out += `${this.name}${this.labelText(key)} ${formatNumber(value)}\n`;
    return out;
  }
}

export class Counter<L extends string = string> extends ValueMetric<L> {
  constructor(opts: Options<L>) {
    super(opts, 'counter');
  }

  inc(labels?: Labels<L> | number, by = 1): void {
    const [l, n] = typeof labels === 'number' ? [undefined, labels] : [labels, by];
    if (!(n >= 0)) throw new Error(`counter ${this.name} cannot decrease (by ${n})`);
    const key = this.key(l);
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }
}

export class Gauge<L extends string = string> extends ValueMetric<L> {
  constructor(opts: Options<L>) {
    super(opts, 'gauge');
  }

  set(labels: Labels<L> | number, value?: number): void {
    const [l, v] = typeof labels === 'number' ? [undefined, labels] : [labels, value ?? 0];
    this.values.set(this.key(l), v);
  }

  inc(labels?: Labels<L> | number, by = 1): void {
    const [l, n] = typeof labels === 'number' ? [undefined, labels] : [labels, by];
    const key = this.key(l);
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }

  dec(labels?: Labels<L> | number, by = 1): void {
    if (typeof labels === 'number') this.inc(-labels);
    else this.inc(labels, -by);
  }
}

interface Buckets {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = string> extends Metric<L> {
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Buckets>();

  constructor(opts: Options<L> & { readonly buckets: readonly number[] }) {
    super(opts, 'histogram');
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels<L> | number, value?: number): void {
    const [l, v] = typeof labels === 'number' ? [undefined, labels] : [labels, value ?? 0];
    const key = this.key(l);
    let s = this.#series.get(key);
    if (!s) this.#series.set(key, (s = { counts: this.#bounds.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.#bounds.length; i++) if (v <= this.#bounds[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }

  /** Starts a timer; calling the result observes the seconds since. */
  startTimer(labels?: Labels<L>): (more?: Labels<L>) => number {
    const t0 = process.hrtime.bigint();
    return (more) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      this.observe({ ...labels, ...more } as Labels<L>, seconds);
      return seconds;
    };
  }

  render(): string {
    let out = this.header();
    for (const [key, s] of this.#series) {
      this.#bounds.forEach((le, i) => (out += `${this.name}_bucket${this.labelText(key, ['le', formatNumber(le)])} ${s.counts[i]}\n`));
      out += `${this.name}_bucket${this.labelText(key, ['le', '+Inf'])} ${s.count}\n`;
      out += `${this.name}_sum${this.labelText(key)} ${formatNumber(s.sum)}\n`;
      out += `${this.name}_count${this.labelText(key)} ${s.count}\n`;
    }
    return out;
  }
}

/**
 * The process's own figures under `prefix` (the names Prometheus clients commonly use):
 * CPU seconds, resident memory, start time, open descriptors, heap, event-loop delay.
 */
export function processMetrics(registry: Registry, prefix: string): void {
  const g = (name: string, help: string) => new Gauge({ name: `${prefix}${name}`, help, registers: [registry] });
  const cpuUser = new Counter({ name: `${prefix}process_cpu_user_seconds_total`, help: 'User CPU time spent in seconds.', registers: [registry] });
  const cpuSystem = new Counter({ name: `${prefix}process_cpu_system_seconds_total`, help: 'System CPU time spent in seconds.', registers: [registry] });
  const cpu = new Counter({ name: `${prefix}process_cpu_seconds_total`, help: 'Total user and system CPU time spent in seconds.', registers: [registry] });
  const rss = g('process_resident_memory_bytes', 'Resident memory size in bytes.');
  const start = g('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.');
  const fds = g('process_open_fds', 'Number of open file descriptors.');
  const heapTotal = g('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.');
  const heapUsed = g('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.');
  const external = g('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.');
  const lag = g('nodejs_eventloop_lag_seconds', 'Mean event loop delay since the last scrape, in seconds.');
  const lagMax = g('nodejs_eventloop_lag_max_seconds', 'Longest event loop delay since the last scrape, in seconds.');
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  start.set(Math.round((Date.now() - performance.now()) / 1000));
  registry.beforeScrape(() => {
    const usage = process.cpuUsage();
    cpuUser.reset();
    cpuUser.inc(usage.user / 1e6);
    cpuSystem.reset();
    cpuSystem.inc(usage.system / 1e6);
    cpu.reset();
    cpu.inc((usage.user + usage.system) / 1e6);
    const mem = process.memoryUsage();
    rss.set(mem.rss);
    heapTotal.set(mem.heapTotal);
    heapUsed.set(mem.heapUsed);
    external.set(mem.external);
    try {
      fds.set(readdirSync('/proc/self/fd').length - 1); // less the one reading it
    } catch {
      // not Linux: left out
    }
    lag.set(Number.isFinite(delay.mean) ? delay.mean / 1e9 : 0);
    lagMax.set(delay.max / 1e9);
    delay.reset();
  });
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}
