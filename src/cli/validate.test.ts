import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from './main.ts';
import { parseValidateArgs } from './validate.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function run(args: string[], cwd = REPO): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['validate', ...args], { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd });
  return { code, out, err };
}

describe('ferrolb validate', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferrolb-validate-'));
    await writeFile(
      join(dir, 'bad.yaml'),
      [
        'apiVersion: metallb.io/v1beta1',
        'kind: IPAddressPool',
        'metadata:',
        '  name: first-pool',
        '  namespace: metallb-system',
        'spec:',
        '  addresses:',
        '  - 10.0.0.0/24',
        '  - 10.0.0.300/24',
        '---',
        'apiVersion: metallb.io/v1beta1',
        'kind: L2Advertisement',
        'metadata:',
        '  name: example',
        'spec:',
        '  ipAddressPools: [second-pool]',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: {name: web}',
        '',
      ].join('\n'),
    );
    await writeFile(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: [\n');
    await writeFile(join(dir, 'empty.yaml'), '');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("accepts the tutorial's routing-config.yaml with a short summary", async () => {
    const r = await run(['examples/tutorial/routing-config.yaml']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, '2 objects valid: 1 IPAddressPool, 1 L2Advertisement\n');
    assert.equal(r.err, '');
  });
  it('accepts a directory, and --namespace', async () => {
    assert.equal((await run(['examples/tutorial'])).code, 0);
    const other = await run(['--namespace', 'lb', 'examples/tutorial']);
    assert.equal(other.code, 0);
    assert.match(other.out, /ignored: configuration is read only from the namespace lb/);
    assert.match(other.out, /valid, but no metallb\.io object in lb/);
  });
  it('lists every error, one per line, and exits 1; a missing reference is a warning', async () => {
    const r = await run([join(dir, 'bad.yaml')]);
    assert.equal(r.code, 1);
    const lines = r.err.trimEnd().split('\n').map((l) => l.replace(dir + '/', ''));
    assert.deepEqual(lines, [
      'warning: bad.yaml:16: L2Advertisement metallb-system/example: spec.ipAddressPools[0]: no IPAddressPool named "second-pool" in metallb-system: its addresses are announced once it exists',
      'bad.yaml:9: IPAddressPool metallb-system/first-pool: spec.addresses[1]: "10.0.0.300/24" is not a CIDR: "10.0.0.300" is not an IP address',
      '1 error: the configuration is not valid',
    ]);
    assert.match(r.out, /note: ignored 1 v1 Service: not MetalLB configuration/);
  });
  it('accepts an advertisement whose pool is elsewhere (exit 0, warning naming both); --complete refuses it', async () => {
    const file = join(dir, 'adv-only.yaml');
    await writeFile(file, 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: metallb-system}\nspec:\n  ipAddressPools: [first-pool]\n');
    const r = await run([file]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^warning: .*adv-only\.yaml:5: L2Advertisement metallb-system\/l2: spec\.ipAddressPools\[0\]: no IPAddressPool named "first-pool"/);
    assert.equal(r.out, '1 object valid: 1 L2Advertisement (1 warning)\n');
    const complete = await run(['--complete', file]);
    assert.equal(complete.code, 1);
    assert.doesNotMatch(complete.err, /^warning:/m);
    assert.match(complete.err, /adv-only\.yaml:5: L2Advertisement metallb-system\/l2: .*no IPAddressPool named "first-pool"[^\n]*\n1 error: the configuration is not valid\n$/);
  });
  it('reports malformed, empty and missing files in one line each, without a stack trace', async () => {
    const r = await run([join(dir, 'broken.yaml'), join(dir, 'empty.yaml'), join(dir, 'missing.yaml')]);
    assert.equal(r.code, 1);
    const lines = r.err.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0]!, /broken\.yaml:\d+: malformed YAML/);
    assert.match(lines[1]!, /empty\.yaml: holds no YAML document/);
    assert.match(lines[2]!, /missing\.yaml: no such file or directory/);
    assert.ok(!r.err.includes('    at '));
  });
  it('reads standard input for -f - (helm template ... | ferrolb validate -f -), naming it STDIN', async () => {
    const text = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec:\n  addresses: [10.0.0.300/24]\n';
    let err = '';
    const code = await main(['validate', '-f', '-'], { stdout: () => {}, stderr: (t) => void (err += t), cwd: REPO, stdin: async () => Buffer.from(text) });
    assert.equal(code, 1);
    assert.match(err, /^STDIN:5: IPAddressPool metallb-system\/p: spec\.addresses\[0\]: "10\.0\.0\.300\/24" is not a CIDR/);
  });
  it('is a usage error without paths or with unknown options', async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.err, /give at least one file or directory\nUsage: ferrolb validate/);
    assert.equal((await run(['--strict', 'x.yaml'])).code, 2);
    assert.equal((await run(['--namespace'])).code, 2);
    assert.equal((await run(['--namespace', 'Bad_NS', 'x.yaml'])).code, 2);
  });
  it('parses its arguments', () => {
    assert.deepEqual(parseValidateArgs(['-n', 'lb', 'a', '--', '-b']), { namespace: 'lb', complete: false, paths: ['a', '-b'] });
    assert.deepEqual(parseValidateArgs(['--namespace=x', '--complete', 'a']), { namespace: 'x', complete: true, paths: ['a'] });
    assert.deepEqual(parseValidateArgs(['-f', 'a', 'b', '--filename', 'c']), { namespace: 'metallb-system', complete: false, paths: ['a', 'b', 'c'] });
  });
  it('is listed by ferrolb --help', async () => {
    let out = '';
    await main(['--help'], { stdout: (t) => void (out += t), stderr: () => {}, cwd: REPO });
    assert.match(out, /validate\s+check MetalLB configuration/);
  });
});
