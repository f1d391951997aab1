// `ferrolb <command>`: the single entry point for every ferrolb process and tool.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { commands } from './commands.ts';
import { closest } from '../api/schema.ts';
import { impliedComponent } from './metallb-flags.ts';

/**
 * The version in ferrolb's package.json, found upwards from this file (it runs from
 * src/cli/ and from the compiled build/js/src/cli/).
 */
export function ferrolbVersion(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'ferrolb' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here; look further up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

/** A usage error shows the synopsis (the usage up to its first blank line), not the whole help. */
function synopsis(usage: string): string {
  const blank = usage.indexOf('\n\n');
  return blank < 0 ? usage : usage.slice(0, blank);
}

function help(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'ferrolb: a bare-metal load balancer for Kubernetes, compatible with MetalLB configuration',
    '',
    'Usage: ferrolb <command> [options]',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `ferrolb <command> --help` for the options of one command; `ferrolb version` for the version.',
  ].join('\n') + '\n';
}

export async function main(argv: readonly string[], io: CommandIO, env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  // Under MetalLB's manifests the image is given flags only (docs/METALLB.md).
  const implied = impliedComponent(argv, env);
  const [name, ...rest] = implied !== undefined ? [implied, ...argv] : argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help(await Promise.all(commands.map((c) => c.load()))));
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    io.stdout(`ferrolb ${ferrolbVersion()} (Node.js ${process.version})\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    const near = closest(name, commands.map((c) => c.name));
    io.stderr(`ferrolb: unknown command "${name}"${near ? ` (did you mean ${near}?)` : ''}\nRun \`ferrolb --help\` for the commands.\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ferrolb ${name}: ${err.message}\n${synopsis(command.usage)}\nRun \`ferrolb ${name} --help\` for more.\n`);
      return 2;
    }
    // Never a stack trace for the user; the message names what failed.
    io.stderr(`ferrolb ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (import.meta.main) {
  const io: CommandIO = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  };
  process.exitCode = await main(process.argv.slice(2), io);
}
