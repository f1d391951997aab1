// Running other programs: every call has a timeout, so a wedged `ip` or `openssl` can
// never hang `lab up` or `lab down`.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './layout.ts';

export class LabError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'LabError';
  }
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    killSignal: 'SIGKILL',
  });
  if (r.error) {
    const e = r.error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new LabError('missing-tool', `${cmd} is not installed (see docs/LAB.md for the Debian packages the lab needs)`);
    return { status: 124, stdout: r.stdout ?? '', stderr: `${cmd}: ${e.message}` };
  }
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; its stderr becomes the error's one line. */
export function must(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').slice(-1)[0] ?? '';
    throw new LabError('command-failed', `${cmd} ${args.slice(0, 6).join(' ')}: ${why || `exit ${r.status}`}`);
  }
  return r.stdout;
}

/** Feeds many `ip` commands to one process: one exec instead of dozens keeps `up` fast. */
export function ipBatch(lines: readonly string[], netns?: string): void {
  if (lines.length === 0) return;
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  must('ip', args, { input: lines.join('\n') + '\n' });
}

/**
 * Starts a long-running lab process detached in its own process group, output to a log
 * file, and records its pid so `down` can stop it even if this process dies.
 */
export function daemon(name: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): number {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pids, { recursive: true });
  const log = openSync(join(paths.logs, `${name}.log`), 'a');
  try {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: env ?? process.env,
    });
    if (child.pid === undefined) throw new LabError('spawn-failed', `could not start ${name} (${cmd})`);
    writeFileSync(join(paths.pids, `${name}.pid`), `${child.pid}\n`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it returns a value or `timeoutMs` passes. Bounded in time (the
 * deadline) and in count (deadline / interval), as every lab loop must be.
 */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const maxTries = Math.ceil(timeoutMs / intervalMs) + 1;
  let last: unknown;
  for (let i = 0; i < maxTries && Date.now() <= deadline; i++) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  const why = last instanceof Error ? `: ${last.message}` : '';
  throw new LabError('timeout', `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${why}`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process and its ancestors (pids), from /proc; bounded at 64 generations. */
export function ancestors(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1; i++) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}
