// Test helpers for the lab: run `lab/lab`, hold the lab exclusively for one test file,
// always tear it down, and check that nothing of it is left behind.
//
// The lab is one per machine (namespace names are machine-wide), so test files that use
// it take a lock and run one after another even when `node --test` runs files in
// parallel. A test file owns the lab for its duration: it runs `lab down` first, so a
// lab left over from an interrupted run cannot make it fail.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ancestors, isAlive, sleep, waitFor } from '../../lab/src/run.ts';

export const repoDir = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const labBin = join(repoDir, 'lab', 'lab');
export const stateDir = '/run/ferrolb-lab';
const lockDir = '/run/ferrolb-lab.test-lock';

export interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `lab/lab ARGS`, bounded by a timeout so a hang fails the test instead of CI. */
export function lab(args: readonly string[], timeoutMs = 120_000): Result {
  const r = spawnSync(labBin, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status ?? (r.signal ? 128 : 1), stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Like lab() but fails with the command's stderr when it exits non-zero. */
export function labOk(args: readonly string[], timeoutMs?: number): string {
  const r = lab(args, timeoutMs);
  if (r.status !== 0) throw new Error(`lab/lab ${args.join(' ')} exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** A lab speaker's log (ferrolb-speaker-NODE.log). */
export function speakerLog(node: string): string {
  return readFileSync(join(stateDir, 'logs', `ferrolb-speaker-${node}.log`), 'utf8');
}

/** The live sets a lab speaker logged ("members" lines) in its log from `offset` on. */
export function loggedMemberSets(node: string, offset = 0): string[][] {
  return speakerLog(node).slice(offset).split('\n')
    .filter((l) => l.includes('"msg":"members"'))
    .map((l) => (JSON.parse(l) as { live?: string[] }).live ?? []);
}

/** kubectl apply of YAML on standard input; throws with kubectl's message when it fails. */
export function applyYaml(yaml: string): void {
  const r = spawnSync(labBin, ['kubectl', 'apply', '-f', '-'], { input: yaml, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`kubectl apply: ${r.stderr || r.stdout}`);
}

/** For benchmarks: the lab taken down and brought up again with ferrolb, `nodes` played nodes. */
export function freshFerrolbLab(nodes: number): void {
  labOk(['down'], 60_000);
  labOk(['up', '--nodes', String(nodes), '--ferrolb', '--real-nodes', '0'], 300_000);
}

export function kubectl(...args: string[]): string {
  return labOk(['kubectl', ...args]);
}

export function kubectlJson<T>(...args: string[]): T {
  return JSON.parse(kubectl(...args, '-o', 'json')) as T;
}

/** One HTTP GET from a lab host; the body, or undefined if it failed within 2 s. */
export function curlFrom(host: string, url: string): string | undefined {
  const r = lab(['exec', host, 'curl', '-s', '-m', '2', url], 10_000);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Something a lab suite needs: why it is missing here, or undefined when it is present. */
export type LabNeed = () => string | undefined;

/** Network namespaces, veths, the lab's processes: every lab suite needs root first. */
export const needsRoot: LabNeed = () => (isRoot() ? undefined : 'the lab needs root');

/**
 * describe() for a suite that needs the lab (root, and whatever `needs` adds: real
 * nodes, a router): skipped, with the reason, when something is missing. Under CI=true
 * a skip would make a run green without the integration tests, so there the suite is
 * one failing test that names what is missing (issue 13 item 8).
 */
export function describeLab(name: string, body: () => void): void;
export function describeLab(name: string, opts: { readonly needs?: readonly LabNeed[] }, body: () => void): void;
export function describeLab(name: string, optsOrBody: { readonly needs?: readonly LabNeed[] } | (() => void), maybeBody?: () => void): void {
  const body = typeof optsOrBody === 'function' ? optsOrBody : maybeBody!;
  const needs = [needsRoot, ...(typeof optsOrBody === 'function' ? [] : (optsOrBody.needs ?? []))];
  const why = labMissing(needs);
  if (why !== undefined && process.env['CI'] === 'true') {
    describe(name, () => {
      it('can run under CI', () => {
        assert.fail(`this lab suite cannot run here (${why}); under CI=true that is a failure, not a skip`);
      });
    });
    return;
  }
  describe(name, { skip: why ?? false }, body);
}

/** The first need missing, in order (root before anything that needs it to be checked). */
export function labMissing(needs: readonly LabNeed[]): string | undefined {
  for (const need of needs) {
    const why = need();
    if (why !== undefined) return why;
  }
  return undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export { sleep };

/** Polls until `check` returns a value; bounded by `timeoutMs` (the lab's waitFor, 200 ms apart). */
export function eventually<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>, intervalMs = 200): Promise<T> {
  return waitFor(what, timeoutMs, check, intervalMs);
}

/** Cross-process lock so lab test files never overlap; bounded wait (10 minutes). */
/**
 * For a benchmark that holds the lab for its whole run: takes the lock and returns the
 * teardown (`beforeDown`, e.g. copying the logs, then `lab down` and the lock released)
 * for its finally block, and runs the same teardown on SIGINT or SIGTERM (a ^C, a
 * `timeout`), which a finally block never sees: no lab outlives its benchmark.
 */
export function holdLabForRun(beforeDown: () => void = () => {}): () => void {
  acquireLock();
  let held = true;
  const teardown = () => {
    if (!held) return;
    held = false;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      beforeDown();
    } finally {
      lab(['down'], 120_000);
      releaseLock();
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`${signal}: bringing the lab down\n`);
    teardown();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return teardown;
}

export function acquireLock(): void {
  const deadline = Date.now() + 10 * 60_000;
  for (let i = 0; i < 6000 && Date.now() < deadline; i++) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // being written or removed; look again
      }
      if (holder > 0 && !isAlive(holder)) rmSync(lockDir, { recursive: true, force: true });
      // Held by a process we run under (a script that took the lock, then ran the
      // tests, one file at a time): the lab is already ours; waiting would deadlock.
      // releaseLock leaves that lock to its holder.
      else if (holder > 0 && ancestors().has(holder)) return;
      sleepSync(100);
    }
  }
  throw new Error(`could not take ${lockDir} within 10 minutes`);
}

export function releaseLock(): void {
  try {
    if (Number(readFileSync(join(lockDir, 'pid'), 'utf8')) === process.pid) rmSync(lockDir, { recursive: true, force: true });
  } catch {
    // not ours or gone
  }
}

/** `up` arguments with `--real-nodes 0` unless they say how many nodes are real. */
export function withPlayedDefault(args: readonly string[]): string[] {
  return args.includes('--real-nodes') ? [...args] : [...args, '--real-nodes', '0'];
}

/**
 * Holds the lab for this test file: takes the lock, optionally brings the lab up once
 * before the file's tests, and tears it down after them, on failure too. If the test
 * process is killed (a timeout), the exit handlers still run `lab down`.
 */
export function useLab(opts: { up?: readonly string[]; } = {}): void {
  let held = false;
  const teardown = () => {
    if (!held) return;
    held = false;
    // FERROLB_TEST_LOGS=DIR keeps each file's lab logs (they go with `lab down`).
    const keep = process.env['FERROLB_TEST_LOGS'];
    if (keep) spawnSync('cp', ['-r', join(stateDir, 'logs'), join(keep, `${basename(process.argv[1] ?? 'test')}-${Date.now()}`)], { timeout: 30_000 });
    lab(['down'], 60_000);
    releaseLock();
  };
  const onSignal = () => {
    teardown();
    process.exit(1);
  };
  before(async () => {
    acquireLock();
    held = true;
    process.once('exit', teardown);
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    // A cold machine builds the binaries first (minutes); do it outside `up`'s timeout.
    const build = spawnSync('bash', [join(repoDir, 'lab', 'build.sh')], { encoding: 'utf8', timeout: 60 * 60_000 });
    if (build.status !== 0) throw new Error(`lab/build.sh failed: ${build.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    labOk(['down'], 60_000);
    // `lab up` gives real nodes by default; a test that does not ask for them gets the
    // agent's played nodes (seconds to start; docs/LAB.md "Tests").
    if (opts.up) labOk(['up', ...withPlayedDefault(opts.up)], 120_000);
  });
  after(() => {
    teardown();
    process.off('exit', teardown);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
}

let nsCounter = 0;
/** A fresh namespace per test, so tests in one file do not see each other's objects. */
export function freshNamespace(prefix: string): string {
  const ns = `${prefix}-${process.pid}-${++nsCounter}`;
  kubectl('create', 'namespace', ns);
  return ns;
}

// ---- what "nothing left behind" means ------------------------------------------

export function labNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('flb-'));
  } catch {
    return [];
  }
}

/** Processes of the lab, found independently of the lab's own code: by command line. */
export function labProcesses(): string[] {
  const out: string[] = [];
  const marks = [stateDir + '/', '/.cache/ferrolb/bin/', '/lab/src/agent/', '/lab/src/pod-server.ts'];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (marks.some((m) => cmd.includes(m))) out.push(`${pid} ${cmd.replaceAll('\0', ' ').slice(0, 120)}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** kube-proxy rules in the host's own namespace would mean a node escaped its namespace. */
export function hostProxyRules(): string[] {
  const r = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '').split('\n').filter((l) => /kube-proxy|KUBE-/.test(l)).slice(0, 5);
}

export interface Leftovers {
  netns: string[];
  processes: string[];
  stateDir: boolean;
  hostProxyRules: string[];
}

export function leftovers(): Leftovers {
  return { netns: labNetns(), processes: labProcesses(), stateDir: existsSync(stateDir), hostProxyRules: hostProxyRules() };
}

export const nothingLeft: Leftovers = { netns: [], processes: [], stateDir: false, hostProxyRules: [] };

/** Starts `lab up` in the background, for tests that interrupt it. */
export function spawnUp(args: readonly string[]) {
  return spawn(labBin, ['up', ...withPlayedDefault(args)], { stdio: 'ignore' });
}
