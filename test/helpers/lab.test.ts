// describeLab's rule: a lab suite that cannot run here is skipped, but under CI=true it
// fails, so a CI run cannot be green without its integration tests. Each case runs a
// one-suite file in a child `node --test`, as CI would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const helper = fileURLToPath(new URL('./lab.ts', import.meta.url));

function runSuite(need: string, ci: boolean): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'describe-lab-'));
  try {
    const file = join(dir, 'suite.test.ts');
    writeFileSync(file, `import { it } from 'node:test';
import { describeLab } from ${JSON.stringify(helper)};
describeLab('a lab suite', { needs: [${need}] }, () => {
  it('ran', () => {});
});
`);
    // Without the parent's test context, the child is a test run of its own.
    const { CI: _ci, NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], { encoding: 'utf8', timeout: 60_000, env: ci ? { ...env, CI: 'true' } : env });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MISSING = "() => 'the frobnicator is not installed'";

test('a suite that cannot run is skipped, naming what is missing', () => {
  const r = runSuite(MISSING, false);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /﹣ a lab suite .*# the frobnicator is not installed/);
  assert.doesNotMatch(r.out, /✔ ran/);
});

test('under CI=true the same suite fails, naming what is missing', () => {
  const r = runSuite(MISSING, true);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /can run under CI/);
  assert.match(r.out, /the frobnicator is not installed|the lab needs root/);
});

test('a suite whose needs are met runs, with CI set or not', { skip: process.getuid?.() !== 0 && 'root is one of every lab suite’s needs' }, () => {
  for (const ci of [false, true]) {
    const r = runSuite('() => undefined', ci);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /✔ ran/);
  }
});
