// `ferrolb speaker` refuses bad input before it touches the network or the API server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.ts';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['speaker', ...args], { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: process.cwd() });
  return { code, out, err };
}

test('a port that is not a port is a usage error naming the flag', async () => {
  const r = await run(['--ml-bind-port', '70000']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--ml-bind-port "70000" is not a port number/);
});

test('--gratuitous-arp-interval takes whole seconds, 0 to a day, and names itself otherwise', async () => {
  for (const bad of ['-1', '1.5', 'often', '86401']) {
    const r = await run(['--gratuitous-arp-interval', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, new RegExp(`--gratuitous-arp-interval "${bad.replace('.', '\\.')}" is not a whole number of seconds from 0 \\(off\\) to 86400`));
  }
});

test('--bgp-drain-time takes whole seconds, 0 to 300, and names itself otherwise', async () => {
  for (const bad of ['-1', '2.5', 'soon', '301']) {
    const r = await run(['--bgp-drain-time', bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, new RegExp(`--bgp-drain-time "${bad.replace('.', '\\.')}" is not a whole number of seconds from 0 \\(withdraw at once\\) to 300`));
  }
});

test('a memberlist key that cannot be read, or is empty, stops the speaker with the path', async () => {
  const missing = await run(['--ml-secret-key-path', '/nonexistent/ferrolb-key']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read the memberlist key \/nonexistent\/ferrolb-key/);
  const dir = mkdtempSync(join(tmpdir(), 'ferrolb-speaker-'));
  writeFileSync(join(dir, 'key'), '');
  const empty = await run(['--ml-secret-key-path', join(dir, 'key')]);
  assert.equal(empty.code, 1);
  assert.match(empty.err, /is empty/);
});

test("a directory as the memberlist key path is read as DIR/secretkey, as MetalLB's manifests mount the Secret", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrolb-speaker-'));
  const none = await run(['--ml-secret-key-path', dir, '--kubeconfig', '/nonexistent/kubeconfig', '--metrics-addr', 'off']);
  assert.equal(none.code, 1);
  assert.ok(none.err.includes(`cannot read the memberlist key ${join(dir, 'secretkey')}`), none.err);
  writeFileSync(join(dir, 'secretkey'), 'c2VjcmV0');
  // The key is read; the speaker goes on to the next step, the kubeconfig.
  const read = await run(['--ml-secret-key-path', dir, '--kubeconfig', '/nonexistent/kubeconfig', '--metrics-addr', 'off']);
  assert.equal(read.code, 1);
  assert.match(read.err, /cannot load kubeconfig \/nonexistent\/kubeconfig/);
  assert.doesNotMatch(read.err, /memberlist key/);
});

test('an unreadable kubeconfig is reported, exit 1', async () => {
  const r = await run(['--kubeconfig', '/nonexistent/kubeconfig', '--metrics-addr', 'off']);
  assert.equal(r.code, 1);
  assert.match(r.err, /ferrolb speaker: cannot load kubeconfig \/nonexistent\/kubeconfig/);
});

test('--help describes the flags', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--node-name', '--ml-bind-port', '--ml-secret-key-path', '--metrics-addr']) assert.ok(r.out.includes(flag), flag);
});

test('a --metrics-cert-dir without a readable certificate, or with a key that is not its key, stops the speaker with the code and the file', async () => {
  const missing = await run(['--metrics-cert-dir', '/nonexistent/metrics-tls']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^ferrolb speaker: ETLSCERT: cannot read \/nonexistent\/metrics-tls\/tls\.crt: ENOENT\n$/);
  const dir = mkdtempSync(join(tmpdir(), 'ferrolb-speaker-tls-'));
  writeFileSync(join(dir, 'tls.crt'), 'garbage\n');
  writeFileSync(join(dir, 'tls.key'), 'garbage\n');
  const garbled = await run(['--metrics-cert-dir', dir]);
  assert.equal(garbled.code, 1);
  assert.match(garbled.err, new RegExp(`ETLSCERT: ${dir}/tls\\.crt is not a PEM certificate`));
});
