#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: a young generation of 2 MB instead of V8's default (up to
// 32 MB per semi-space) keeps the controller's resident memory near its live heap; with
// 10,000 services it is the difference between ~195 MB and the 150 MB budget.
//
// npm `bin` entry and the image's entrypoint. It runs the compiled JavaScript in
// build/js/ (scripts/build.sh) when that is at least as new as every TypeScript source,
// and the sources themselves otherwise (Node 24 strips their types), so a checkout being
// edited never runs stale code. The compiled form spares each process Node's type
// stripper, about 30 MB of resident memory (docs/BENCHMARKS.md, "Footprint"). Node
// refuses to strip types under node_modules, so from the sources this shim only works
// from a checkout (npx ferrolb) or a global link.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`ferrolb needs Node.js >= 24 (this is ${process.version}); run it through npm (npx ferrolb) so the project's Node 24 is used\n`);
  process.exit(1);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// V8 flags, set before any of ferrolb's code is compiled. Neither daemon needs V8's
// optimising compilers: the speaker's work (heartbeats, a few ARP/NDP frames and BGP
// messages a second, a plan when something changes) and the controller's (a decision of
// microseconds per Service between API round trips) are small, and the API server, not
// the controller, sets the assignment rate. Without them, and with V8's size-over-speed
// heuristics (a smaller heap growing step), the speaker is ~20 MB smaller and the
// controller ~12 MB at 200 Services and, in-process, ~75 MB at 10,000 (docs/BENCHMARKS.md,
// "Footprint", with the speaker's failover and the controller's assignment figures).
// FERROLB_V8_FLAGS replaces the choice for any command.
const SMALL = '--no-opt --no-maglev --optimize-for-size';
const V8_FLAGS = { speaker: SMALL, controller: SMALL };

/**
 * True when build/js was built after the last change to any source (or there are no
 * sources, as in the image). A stale build is said on standard error, once per start.
 */
function compiledIsCurrent() {
  const stamp = join(root, 'build', 'js', '.built');
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  const newer = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return undefined;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      // Tests are not compiled (tsconfig.build.json), so a changed test changes nothing that runs.
      const source = e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.test-support.ts');
      const found = e.isDirectory() ? newer(path) : source && statSync(path).mtimeMs > built ? path : undefined;
      if (found) return found;
    }
    return undefined;
  };
  const changed = newer(join(root, 'src'));
  if (changed) process.stderr.write(`ferrolb: running the TypeScript sources: ${changed.slice(root.length + 1)} changed after the last build (bash scripts/build.sh)\n`);
  return changed === undefined;
}

// FERROLB_COMPILED=1 runs build/js as it is, even if older than a source: for a
// benchmark that builds once and measures the compiled form while others edit sources.
const pinned = process.env.FERROLB_COMPILED === '1' && existsSync(join(root, 'build', 'js', '.built'));
const compiled = pinned || compiledIsCurrent();
const source = (path) => (compiled ? `../build/js/src/${path}.js` : `../src/${path}.ts`);
// The command, for the V8 flags: the first argument, or, under MetalLB's manifests (flags
// only), the component their environment names (src/cli/metallb-flags.ts; it imports
// nothing, so little is compiled before the flags are set).
const { impliedComponent } = await import(source('cli/metallb-flags'));
const command = impliedComponent(process.argv.slice(2), process.env) ?? process.argv[2];
const v8Flags = process.env.FERROLB_V8_FLAGS ?? V8_FLAGS[command];
if (v8Flags) setFlagsFromString(v8Flags);
await import(source('cli/main')).then(async (m) => {
  process.exitCode = await m.main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  });
});
