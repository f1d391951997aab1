// `lab down` leaves nothing behind (no namespace, no process, no state directory),
// whatever state `up` reached; and a failed `up` cleans up after itself.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { curlFrom, eventually, kubectl, lab, labBin, labNetns, labOk, leftovers, nothingLeft, spawnUp, stateDir, useLab, describeLab } from '../helpers/lab.ts';

describeLab('lab down', () => {
  useLab();

  it('after up (iptables mode, serving a NodePort): nothing left; and down twice in a row', async () => {
    labOk(['up', '--nodes', '2', '--proxy-mode', 'iptables', '--real-nodes', '0']);
    assert.deepEqual(labNetns().sort(), ['flb-client', 'flb-control', 'flb-lan', 'flb-node-1', 'flb-node-2', 'flb-router']);
    // kube-proxy's iptables mode works like nftables mode: a NodePort answers on both nodes.
    labOk(['deploy', 'web']);
    kubectl('expose', 'deployment', 'web', '--port', '80', '--type', 'NodePort');
    const nodePort = JSON.parse(kubectl('get', 'service', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}'));
    for (const ip of ['198.18.0.11', '198.18.0.12']) {
      assert.match(await eventually(`an answer via ${ip}`, 10_000, () => curlFrom('client', `http://${ip}:${nodePort}`)), /^web-/);
    }
    assert.match(labOk(['exec', 'node-1', 'iptables-save', '-t', 'nat']), /KUBE-NODEPORTS/);
    const down = labOk(['down']);
    assert.match(down, /lab: down in [\d.]+ s \(\d+ processes stopped, 7 namespaces removed\)/);
    assert.deepEqual(leftovers(), nothingLeft);
    const again = labOk(['down']);
    assert.match(again, /\(0 processes stopped, 0 namespaces removed\)/);
    assert.deepEqual(leftovers(), nothingLeft);
  });

  it('after a killed up: nothing left', async () => {
    const up = spawnUp(['--nodes', '2']);
    const exited = new Promise((resolve) => up.once('exit', resolve));
    // Kill `up` once the API server is starting and the namespaces exist: the state
    // in which a crash leaves the most behind.
    await eventually('up to get half way', 30_000, () => (existsSync(join(stateDir, 'pids', 'kube-apiserver.pid')) && labNetns().length >= 5 ? true : undefined), 50);
    up.kill('SIGKILL');
    await exited;
    assert.ok(leftovers().processes.length > 0, 'the killed up left processes behind (else this test proves nothing)');
    const r = lab(['up', '--nodes', '2', '--real-nodes', '0']);
    assert.notEqual(r.status, 0, 'up refuses to start over leftovers');
    assert.match(r.stderr, /run lab\/lab down first/);
    labOk(['down']);
    assert.deepEqual(leftovers(), nothingLeft);
  });

  it('an interrupted up (Ctrl-C) tears down by itself', async () => {
    const up = spawnUp(['--nodes', '2']);
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    await eventually('up to get half way', 30_000, () => (existsSync(join(stateDir, 'pids', 'kube-apiserver.pid')) ? true : undefined), 50);
    up.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.deepEqual(leftovers(), nothingLeft);
  });

  it('a port already taken: up fails clearly and leaves nothing', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(16443, '127.0.0.1', resolve);
    });
    try {
      const r = lab(['up', '--nodes', '1', '--real-nodes', '0']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /port 16443 on 127\.0\.0\.1 \(apiserver\) is already in use/);
      assert.deepEqual(leftovers(), nothingLeft);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses up and down from outside the test run that holds the lab', async () => {
    // A double fork detaches the outsider from this process's ancestry, as a command
    // typed in another terminal would be.
    const out = join(tmpdir(), `lab-outsider-${process.pid}.txt`);
    try {
      spawnSync('sh', ['-c', `( "${labBin}" down >"${out}" 2>&1; echo "exit=$?" >>"${out}" ) &`]);
      const text = await eventually('the outsider to finish', 20_000, () => {
        const t = existsSync(out) ? readFileSync(out, 'utf8') : '';
        return t.includes('exit=') ? t : undefined;
      });
      assert.match(text, /^lab: a test run \(pid \d+\) holds the lab/);
      assert.match(text, /exit=1/);
    } finally {
      rmSync(out, { force: true });
    }
  });

  it('up refuses an unprivileged user', (t) => {
    // setpriv (util-linux) runs one command as nobody.
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', labBin, 'up'], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) return t.skip('setpriv is not available');
    // A checkout under a private directory (mktemp -d is 0700) cannot be reached by nobody
    // at all: the kernel refuses before the lab can, which is a refusal too, but not ours.
    if (/Permission denied/.test(r.stderr) && !/the lab needs root/.test(r.stderr)) {
      assert.notEqual(r.status, 0);
      assert.deepEqual(leftovers(), nothingLeft);
      return t.skip(`nobody cannot reach ${labBin}; the lab's own refusal is not exercised from this checkout`);
    }
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the lab needs root/);
    assert.deepEqual(leftovers(), nothingLeft);
  });
});
