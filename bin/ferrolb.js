#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: a young generation of 2 MB instead of V8's default (up to
// 32 MB per semi-space) keeps the controller's resident memory near its live heap; with
// 10,000 services it is the difference between ~195 MB and the 150 MB budget.
// npm `bin` entry. The sources are TypeScript run by Node 24's type stripping; Node
// refuses to strip types under node_modules, so this shim only works from a checkout
// (npx ferrolb) or a global link, which is how ferrolb is run today.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`ferrolb needs Node.js >= 24 (this is ${process.version}); run it through npm (npx ferrolb) so the project's Node 24 is used\n`);
  process.exit(1);
}
await import('../src/cli/main.ts').then(async (m) => {
  process.exitCode = await m.main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  });
});
