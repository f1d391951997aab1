// Faults injected into the lab for tests: the API server killed and started again.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, stateDir } from './lab.ts';

function apiserverPid(): number {
  for (const e of readdirSync('/proc')) {
    const pid = Number(e);
    if (!Number.isInteger(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0]!.endsWith('/kube-apiserver') && argv.some((a) => a.includes(stateDir))) return pid;
    } catch {
      // exited
    }
  }
  throw new Error('kube-apiserver of the lab is not running');
}

/** Kills the lab's kube-apiserver and starts it again with the same arguments. */
export async function restartApiserver(downMs: number): Promise<void> {
  const pid = apiserverPid();
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  process.kill(pid, 'SIGKILL');
  await eventually('kube-apiserver gone', 10_000, () => {
    try {
      process.kill(pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
  await new Promise((r) => setTimeout(r, downMs));
  const log = openSync(join(stateDir, 'logs', 'kube-apiserver.log'), 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  // `lab down` finds it by its pid file, and by its command line in any case.
  writeFileSync(join(stateDir, 'pids', 'kube-apiserver.pid'), `${child.pid}\n`);
}

