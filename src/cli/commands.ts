// The registry of `ferrolb` commands, in the order `--help` lists them. Each command's
// module is loaded only when that command runs (or for `--help`): a speaker on every
// node then never loads the controller, its webhook and X.509 code, nor the offline
// tools, about 3 MB of resident memory (docs/BENCHMARKS.md, "Footprint").
import type { Command } from './io.ts';

export interface CommandEntry {
  /** The command's name, as its module's Command has it (commands.test.ts checks). */
  readonly name: string;
  readonly load: () => Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  { name: 'controller', load: async () => (await import('./controller.ts')).controllerCommand },
  { name: 'speaker', load: async () => (await import('./speaker.ts')).speakerCommand },
  { name: 'validate', load: async () => (await import('./validate.ts')).validateCommand },
  { name: 'migrate-config', load: async () => (await import('./migrate.ts')).migrateConfigCommand },
  { name: 'plan', load: async () => (await import('./plan.ts')).planCommand },
  { name: 'status', load: async () => (await import('./inspect.ts')).statusCommand },
  { name: 'doctor', load: async () => (await import('./inspect.ts')).doctorCommand },
];
