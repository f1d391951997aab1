// kubectl users' habits at the top level (issue 14 item 5): version, "did you mean",
// a short usage line on a usage error and the full help only with --help.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { main, ferrolbVersion } from './main.ts';

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: process.cwd() }, env);
  return { code, out, err };
}

describe('ferrolb', () => {
  it('prints its version for `version` and `--version`, from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(ferrolbVersion(), pkg.version);
    for (const arg of ['version', '--version']) {
      const r = await run([arg]);
      assert.equal(r.code, 0);
      assert.equal(r.out, `ferrolb ${pkg.version} (Node.js ${process.version})\n`);
    }
  });
  it('suggests the command meant, without dumping the help', async () => {
    const r = await run(['valdate', 'x.yaml']);
    assert.equal(r.code, 2);
    assert.equal(r.err, 'ferrolb: unknown command "valdate" (did you mean validate?)\nRun `ferrolb --help` for the commands.\n');
    assert.doesNotMatch((await run(['frobnicate'])).err, /did you mean/);
    assert.match((await run(['migrate-confg'])).err, /did you mean migrate-config\?/);
  });
  it('answers a usage error with the synopsis and a pointer to --help, the full help only with --help', async () => {
    const r = await run(['plan', '--confg', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.err, /^ferrolb plan: unknown option --confg \(did you mean --config\?\)\nUsage: ferrolb plan --config/);
    assert.match(r.err, /Run `ferrolb plan --help` for more\.\n$/);
    assert.doesNotMatch(r.err, /Simulates the controller/);
    assert.match((await run(['plan', '--help'])).out, /Simulates the controller/);
  });
  it("under MetalLB's manifests, which pass flags only, runs the component their environment names", async () => {
    const flags = ['--port=7472', '--log-level=info', '--kubeconfig', '/nonexistent/kubeconfig'];
    const speaker = await run(flags, { METALLB_NODE_NAME: 'node-1', METALLB_POD_NAME: 'speaker-abcde', METALLB_HOST: '198.18.0.11' });
    assert.equal(speaker.code, 1);
    assert.match(speaker.err, /^ferrolb speaker: cannot load kubeconfig \/nonexistent\/kubeconfig/);
    const controller = await run(flags, { METALLB_POD_NAME: 'controller-abcde', METALLB_ML_SECRET_NAME: 'memberlist', METALLB_DEPLOYMENT: 'controller' });
    assert.equal(controller.code, 1);
    assert.match(controller.err, /^ferrolb controller: cannot load kubeconfig \/nonexistent\/kubeconfig/);
    // Without MetalLB's environment a flag is not a command.
    const none = await run(flags);
    assert.equal(none.code, 2);
    assert.match(none.err, /^ferrolb: unknown command "--port=7472"/);
    // A command given is always the one run.
    assert.match((await run(['validate', '--help'], { METALLB_NODE_NAME: 'node-1' })).out, /^Usage: ferrolb validate/);
  });
});
