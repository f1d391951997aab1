// The registry of `ferrolb` commands, in the order `--help` lists them.
import type { Command } from './io.ts';
import { validateCommand } from './validate.ts';

export const commands: readonly Command[] = [validateCommand];
