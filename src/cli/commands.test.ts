import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { commands } from './commands.ts';

describe('the command registry', () => {
  it('names each command as its module does', async () => {
    for (const entry of commands) assert.equal((await entry.load()).name, entry.name);
    assert.equal(new Set(commands.map((c) => c.name)).size, commands.length, 'no name twice');
  });

  it('loads only the module of the command that runs: `speaker --help` loads no controller, webhook or X.509 code', () => {
    // A child process, so this file's own imports do not count.
    const r = spawnSync(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(LOADED_HOOK), '--input-type=module', '-e', SPEAKER_HELP], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[];
    assert.ok(loaded.some((u) => u.endsWith('/src/cli/speaker.ts')), 'the speaker command loaded');
    for (const part of ['/src/cli/controller.ts', '/src/controller/', '/src/webhook/', '/src/cli/plan.ts', '/src/inspect/']) {
      assert.ok(!loaded.some((u) => u.includes(part)), `${part} not loaded: ${loaded.filter((u) => u.includes(part)).join(', ')}`);
    }
  });
});

/** Records every module URL the child resolves (a module customisation hook). */
const LOADED_HOOK = `
import { registerHooks } from 'node:module';
globalThis.__loaded = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); globalThis.__loaded.push(r.url); return r; } });
`;

const SPEAKER_HELP = `
const { main } = await import(${JSON.stringify(new URL('./main.ts', import.meta.url).href)});
await main(['speaker', '--help'], { stdout() {}, stderr() {}, cwd: '.' });
console.log(JSON.stringify(globalThis.__loaded));
`;
