// What loading code costs a ferrolb process, without the lab: for each module graph, a
// fresh `node --expose-gc` imports it from build/js (the compiled JavaScript the
// processes run), collects garbage and prints the growth of its resident memory and of
// V8's heap; with no V8 flags and with the daemons' (bin/ferrolb.js). Node's own start
// (before any import) is the first line.
//
// Run: node bench/imports.ts [--runs 2]   (it runs scripts/build.sh first)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoDir } from '../test/helpers/lab.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
const RUNS = Number(values.runs);
if (!(RUNS >= 1 && RUNS <= 10)) throw new Error('--runs 1-10');

const DAEMON_FLAGS = '--no-opt --no-maglev --optimize-for-size';
const js = (path: string) => new URL(`file://${join(repoDir, 'build', 'js', 'src', path)}`).href;

/** name -> the modules imported, in order (`builtin:` ones through process.getBuiltinModule). */
const GRAPHS: [string, string[]][] = [
  ['node alone', []],
  ['node:http, an ESM import (reads its WebSocket getter: undici)', ['node:http']],
  ['the API client (k8s/client)', [js('k8s/client.js')]],
  ['node:http, as the daemons take it (process.getBuiltinModule)', ['builtin:node:http']],
  ['the logger (observability/logging)', [js('observability/logging.js')]],
  ['the speaker command (cli/speaker)', [js('cli/speaker.js')]],
  ['  without BGP: its other edges', [js('k8s/client.js'), js('k8s/informer.js'), js('speaker/l2/responder.js'), js('speaker/membership/membership.js'), js('config/build.js'), js('observability/metrics.js'), js('observability/logging.js')]],
  ['  the same and BGP (speaker/bgp/sessions)', [js('k8s/client.js'), js('k8s/informer.js'), js('speaker/l2/responder.js'), js('speaker/membership/membership.js'), js('config/build.js'), js('observability/metrics.js'), js('observability/logging.js'), js('speaker/bgp/sessions.js')]],
  ['the controller command (cli/controller)', [js('cli/controller.js')]],
  ['every command (what a static registry loaded)', [js('cli/speaker.js'), js('cli/controller.js'), js('cli/plan.js'), js('cli/inspect.js'), js('cli/validate.js'), js('cli/migrate.js')]],
];

const CHILD = `
import { readFileSync } from 'node:fs';
const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
gc();
const r0 = rss(), h0 = process.memoryUsage().heapUsed;
for (const m of JSON.parse(process.env.MODULES)) m.startsWith('builtin:') ? process.getBuiltinModule(m.slice(8)) : await import(m);
gc(); gc();
console.log(JSON.stringify({ rss: rss(), growth: rss() - r0, heap: (process.memoryUsage().heapUsed - h0) / 1048576 }));
`;

function measure(modules: string[], flags: string): { rss: number; growth: number; heap: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', ...flags.split(' ').filter(Boolean), '--input-type=module', '-e', CHILD], {
    env: { ...process.env, MODULES: JSON.stringify(modules) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`importing ${modules.join(', ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as { rss: number; growth: number; heap: number };
}

spawnSync('bash', [join(repoDir, 'scripts', 'build.sh')], { stdio: 'inherit' });
const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) || xs.length === 1 ? xs[0]!.toFixed(1) : `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`);
console.log(`module graph | RSS after, no flags (growth; heap) | RSS after, ${DAEMON_FLAGS} (growth; heap)   [MB, ${RUNS} runs, Node ${process.version}]`);
for (const [name, modules] of GRAPHS) {
  const cols = ['', DAEMON_FLAGS].map((flags) => {
    const runs = Array.from({ length: RUNS }, () => measure(modules, flags));
    return `${range(runs.map((x) => x.rss))} (+${range(runs.map((x) => x.growth))}; heap +${range(runs.map((x) => x.heap))})`;
  });
  console.log(`${name.padEnd(48)} | ${cols[0]!.padEnd(32)} | ${cols[1]}`);
}
