// Runs ferrolb processes from the working tree against the lab, as an operator would
// (its own kubeconfig identity, its RBAC applied with kubectl), and always stops them.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after } from 'node:test';
import { kubectl, labOk, repoDir } from './lab.ts';

// Run through the npm bin entry, as users do (its shebang sets the V8 flags), with the
// project's Node 24 first on PATH as npm scripts have it.
const bin = join(repoDir, 'bin', 'ferrolb.js');
const env = { ...process.env, PATH: `${join(repoDir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
const running = new Set<ChildProcess>();

after(() => {
  for (const p of running) p.kill('SIGKILL');
});

export interface FerrolbProcess {
  readonly proc: ChildProcess;
  /** Everything it printed so far (JSON log lines). */
  output(): string;
  /** Sends a signal and resolves with the exit code (bounded: SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startFerrolb(args: readonly string[]): FerrolbProcess {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    running.delete(proc);
    resolve(code);
  }));
  return {
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Applies ferrolb's CRDs and the controller's RBAC, exactly as an operator would. */
export function installFerrolb(): void {
  kubectl('apply', '-f', join(repoDir, 'deploy', 'crds'));
  kubectl('wait', '--for=condition=Established', '--timeout=30s', 'crd', '--all');
  kubectl('apply', '-f', join(repoDir, 'deploy', 'rbac'));
}

/** Lease timing for tests: a killed leader is replaced in seconds, not 15 s. */
export const FAST_ELECTION = ['--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '0.5s'];

/** Starts the controller with the lab's controller identity. */
export function startController(extra: readonly string[] = FAST_ELECTION): FerrolbProcess {
  const kubeconfig = labOk(['kubeconfig', 'controller']).trim();
  const metrics = extra.includes('--metrics-addr') ? [] : ['--metrics-addr', 'off'];
  return startFerrolb(['controller', '--kubeconfig', kubeconfig, ...metrics, '--log-level', 'debug', ...extra]);
}
