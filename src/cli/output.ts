// `-o` / `--output`, as kubectl spells it, for every command that prints objects: the
// default table (or text), `wide` (the table with more columns, where a command has
// any), `json` and `yaml` (the same data, for scripts).
import { stringify } from 'yaml';
import { UsageError } from './io.ts';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json', 'yaml'];

/** parseArgs' short forms shared by the commands: -o (output), -n (namespace). */
export const SHORT_OPTIONS: Readonly<Record<string, string>> = { o: 'output', n: 'namespace' };

/** The format named by --output; `text` (these commands' earlier name) is the table. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'text') return 'table';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`--output must be one of ${OUTPUT_FORMATS.join(', ')}, not "${value}"`);
}

/** Data as JSON (2-space indented) or YAML, each ending in a newline. */
export function formatData(format: 'json' | 'yaml', data: unknown): string {
  return format === 'json' ? JSON.stringify(data, null, 2) + '\n' : stringify(data);
}
