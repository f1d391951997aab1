// Small private networks for tests that need real interfaces but not the whole lab: two
// network namespaces joined by a veth pair, addressed from 198.18.3.0/24 and
// 2001:db8:3::/64, removed again after the test (also when a previous run crashed).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync } from 'node:fs';

const PREFIX = 'flbt-';

function sh(args: readonly string[], input?: string): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL', ...(input !== undefined ? { input } : {}) });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

export interface TestHost {
  readonly netns: string;
  readonly ifname: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly mac: string;
}

export interface TwoHosts {
  readonly a: TestHost;
  readonly b: TestHost;
  /** Runs a command in a host's namespace; throws on a non-zero exit. */
  exec(host: TestHost, args: readonly string[]): string;
  /** Runs a command that may fail (arping with nobody answering); its exit status. */
  attempt(host: TestHost, args: readonly string[]): number;
  /** Starts a long-running process in a host's namespace; it is killed by destroy(). */
  spawn(host: TestHost, args: readonly string[]): ChildProcessWithoutNullStreams;
  destroy(): void;
}

/** Deletes every namespace a test of this kind left behind. */
export function removeTestNetns(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns').filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const n of names) {
    spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).forEach((pid) => {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    spawnSync('ip', ['netns', 'delete', n]);
  }
}

export function twoHosts(tag: string): TwoHosts {
  removeTestNetns();
  const children: ChildProcessWithoutNullStreams[] = [];
  const make = (side: 'a' | 'b', n: number): Omit<TestHost, 'mac'> => ({
    netns: `${PREFIX}${tag}-${side}`,
    ifname: `eth-${side}`,
    ipv4: `198.18.3.${n}`,
    ipv6: `2001:db8:3::${n}`,
  });
  const a0 = make('a', 1);
  const b0 = make('b', 2);
  sh(['ip', 'netns', 'add', a0.netns]);
  sh(['ip', 'netns', 'add', b0.netns]);
  sh(['ip', 'link', 'add', a0.ifname, 'netns', a0.netns, 'type', 'veth', 'peer', 'name', b0.ifname, 'netns', b0.netns]);
  for (const h of [a0, b0]) {
    // No DAD delay: the addresses are usable at once (the test controls the link).
    sh(['ip', 'netns', 'exec', h.netns, 'sysctl', '-q', '-w', `net.ipv6.conf.${h.ifname}.accept_dad=0`]);
    sh(['ip', '-n', h.netns, 'addr', 'add', `${h.ipv4}/24`, 'dev', h.ifname]);
    sh(['ip', '-n', h.netns, 'addr', 'add', `${h.ipv6}/64`, 'dev', h.ifname, 'nodad']);
    sh(['ip', '-n', h.netns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', h.netns, 'link', 'set', h.ifname, 'up']);
  }
  const mac = (h: Omit<TestHost, 'mac'>): string => sh(['ip', 'netns', 'exec', h.netns, 'cat', `/sys/class/net/${h.ifname}/address`]).trim();
  const a = { ...a0, mac: mac(a0) };
  const b = { ...b0, mac: mac(b0) };
  return {
    a,
    b,
    exec: (host, args) => sh(['ip', 'netns', 'exec', host.netns, ...args]),
    attempt: (host, args) => spawnSync('ip', ['netns', 'exec', host.netns, ...args], { timeout: 20_000, killSignal: 'SIGKILL' }).status ?? 128,
    spawn: (host, args) => {
      const child = spawn('ip', ['netns', 'exec', host.netns, ...args], { stdio: 'pipe' });
      children.push(child);
      return child;
    },
    destroy: () => {
      for (const c of children) c.kill('SIGKILL');
      removeTestNetns();
    },
  };
}

/** Lines a child prints, as an async queue: `next(match, timeoutMs)` waits for one. */
export class LineReader {
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  constructor(child: ChildProcessWithoutNullStreams) {
    let rest = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      this.#lines.push(...parts);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Forgets the lines seen so far: next() and all() then see only what comes after. */
  clear(): void {
    this.#lines.length = 0;
  }

  all(): readonly string[] {
    return this.#lines;
  }

  async next(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.#lines.findIndex(match);
      if (i >= 0) return this.#lines.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms; saw: ${this.#lines.slice(-5).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
