// The registry of `ferrolb` commands, in the order `--help` lists them.
import type { Command } from './io.ts';
import { validateCommand } from './validate.ts';
import { planCommand } from './plan.ts';
import { controllerCommand } from './controller.ts';
import { speakerCommand } from './speaker.ts';
import { doctorCommand, statusCommand } from './inspect.ts';
import { migrateConfigCommand } from './migrate.ts';

export const commands: readonly Command[] = [controllerCommand, speakerCommand, validateCommand, migrateConfigCommand, planCommand, statusCommand, doctorCommand];
