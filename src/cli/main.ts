// `ferrolb <command>`: the single entry point for every ferrolb process and tool.
import { UsageError, type Command, type CommandIO } from './io.ts';
import { commands } from './commands.ts';

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
    'Run `ferrolb <command> --help` for the options of one command.',
  ].join('\n') + '\n';
}

export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`ferrolb: unknown command "${name}"\n` + help(commands));
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`ferrolb ${name}: ${err.message}\n${command.usage}\n`);
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
