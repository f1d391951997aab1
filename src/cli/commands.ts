// The registry of `ferrolb` commands, in the order `--help` lists them.
import type { Command } from './io.ts';

export const commands: readonly Command[] = [];
