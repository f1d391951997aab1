// Runs bench/http-probe.ts in the lab's client namespace and collects its results: the
// client side of the failover and upgrade benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from '../test/helpers/lab.ts';
import type { ProbeResult } from './outage.ts';

/** The request loop in the client namespace, `rate` requests/s; results collected until stop(). */
export function probe(url: string, durationMs: number, rate = 100): { ready: Promise<void>; stop: () => Promise<ProbeResult[]> } {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', 'flb-client', process.execPath, 'bench/http-probe.ts', url, '--rate', String(rate), '--duration-ms', String(durationMs), '--timeout-ms', '250'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const results: ProbeResult[] = [];
  let rest = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') onReady();
      const m = /^(\d+) (ok|fail)$/.exec(line);
      if (m) results.push({ start: Number(m[1]), ok: m[2] === 'ok' });
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    ready,
    stop: async () => {
      child.stdin!.end();
      await Promise.race([exited, sleep(3000)]);
      child.kill('SIGKILL');
      return results;
    },
  };
}

/**
 * `ip -n NETNS monitor WHAT` (neigh, route) in a lab host's namespace: each line with the
 * wall-clock time it arrived. Returns the function that stops it.
 */
export function ipMonitor(netns: string, what: string, onLine: (line: string, at: number) => void): () => void {
  const mon = spawn('ip', ['-n', netns, 'monitor', what], { stdio: ['ignore', 'pipe', 'ignore'] });
  let rest = '';
  mon.stdout!.setEncoding('utf8');
  mon.stdout!.on('data', (chunk: string) => {
    const at = Date.now();
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line, at);
  });
  return () => mon.kill();
}
