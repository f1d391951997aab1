// Faults injected into the lab for tests: the API server killed and started again.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, stateDir } from './lab.ts';
import { control } from '../../lab/src/layout.ts';

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
export async function restartApiserver(downMs: number, whileDown?: () => Promise<void>): Promise<void> {
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
  await whileDown?.();
  const log = openSync(join(stateDir, 'logs', 'kube-apiserver.log'), 'a');
  // It runs in the control host's namespace (lab/src/layout.ts `control`).
  const child = spawn('ip', ['netns', 'exec', CONTROL_NETNS, ...argv], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  // `lab down` finds it by its pid file, and by its command line in any case.
  writeFileSync(join(stateDir, 'pids', 'kube-apiserver.pid'), `${child.pid}\n`);
}


// etcd listens on the control namespace's loopback only: reach it from inside.
const CONTROL_NETNS = control.netns;
const ETCD = 'http://127.0.0.1:12379';

async function etcdCall<T>(path: string, body: unknown): Promise<T> {
  const r = spawnSync('ip', ['netns', 'exec', CONTROL_NETNS, 'curl', '-sS', '-m', '10', '-w', '\n%{http_code}', '-H', 'content-type: application/json', '--data-binary', JSON.stringify(body), `${ETCD}${path}`], { encoding: 'utf8', timeout: 15_000 });
  const lines = (r.stdout ?? '').trimEnd().split('\n');
  const code = lines.pop();
  if (r.status !== 0 || code !== '200') throw new Error(`etcd ${path}: ${code ?? ''} ${lines.join('\n')} ${r.stderr ?? ''}`);
  return JSON.parse(lines.join('\n')) as T;
}

/**
 * Compacts the lab's etcd at its current revision (after one write of its own, so the
 * revision has moved), through etcd's JSON gateway. A watch that then asks for an older
 * resourceVersion gets 410 Gone, as after a real compaction.
 */
export async function compactEtcd(): Promise<number> {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  const put = await etcdCall<{ header: { revision: string } }>('/v3/kv/put', { key: b64('/ferrolb-test/compaction'), value: b64(String(Date.now())) });
  const revision = Number(put.header.revision);
  await etcdCall('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}
