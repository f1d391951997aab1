// Command-line options: `--name value`, `--name=value`, and list options that take every
// following argument up to the next option (`--config a.yaml dir/`), as the usage
// strings promise. Unknown options are usage errors, never silently ignored.
import { UsageError } from './io.ts';
import { closest } from '../api/schema.ts';

export interface ParsedArgs {
  readonly single: Partial<Record<string, string>>;
  readonly multi: Partial<Record<string, string[]>>;
  readonly flags: ReadonlySet<string>;
  readonly positional: readonly string[];
}

export function parseArgs(
  args: readonly string[],
  spec: { single?: readonly string[]; multi?: readonly string[]; flags?: readonly string[]; short?: Readonly<Record<string, string>> },
): ParsedArgs {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const flags = new Set<string>();
  const positional: string[] = [];
  let list: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    let arg = args[i]!;
    // kubectl's short forms: `-o json`, `-o=json`, `-ojson`.
    const short = /^-([a-zA-Z])(?:=?(.+))?$/.exec(arg);
    const long = short ? spec.short?.[short[1]!] : undefined;
    if (short && long) arg = short[2] !== undefined ? `--${long}=${short[2]}` : `--${long}`;
    if (!arg.startsWith('--') || arg === '--') {
      if (list) list.push(arg);
      else positional.push(arg);
      continue;
    }
    list = undefined;
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    if (spec.flags?.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.add(name);
    } else if (spec.single?.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      if (single[name] !== undefined) throw new UsageError(`--${name} given twice`);
      single[name] = value;
    } else if (spec.multi?.includes(name)) {
      list = multi[name] ??= [];
      if (inline !== undefined) list.push(inline);
    } else {
      const near = closest(name, [...(spec.single ?? []), ...(spec.multi ?? []), ...(spec.flags ?? [])]);
      throw new UsageError(`unknown option --${name}${near ? ` (did you mean --${near}?)` : ''}`);
    }
  }
  return { single, multi, flags, positional };
}
