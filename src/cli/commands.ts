// The registry of `ferrolb` commands, in the order `--help` lists them.
import type { Command } from './io.ts';
import { validateCommand } from './validate.ts';
import { planCommand } from './plan.ts';

export const commands: readonly Command[] = [validateCommand, planCommand];
