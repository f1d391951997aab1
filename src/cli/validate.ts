// `ferrolb validate [--namespace NS] FILE_OR_DIR...`: checks MetalLB configuration
// offline, on the same loader and builder the controller uses.
import { UsageError, type Command, type CommandIO } from './io.ts';
import { loadDocuments } from '../config/load.ts';
import { buildConfig, DEFAULT_NAMESPACE } from '../config/build.ts';
import { formatConfigError, isWarning, type ConfigError } from '../config/errors.ts';
import { checkDNSLabel } from '../config/names.ts';

const USAGE = `Usage: ferrolb validate [--namespace NS] [--complete] FILE_OR_DIR...

Checks MetalLB configuration (metallb.io resources) in YAML or JSON files, and in the
*.yaml, *.yml and *.json files of directories. Exits 0 when it is valid, 1 listing
every error otherwise. Objects of other kinds are ignored with a note.

A reference to an object the files do not hold (an advertisement naming a pool, a
BGPPeer naming a BFDProfile, ...) is a warning: the cluster may hold it, and MetalLB
accepts objects in any order.

Options:
  -n, --namespace NS   the load balancer's namespace (default ${DEFAULT_NAMESPACE}); configuration
                       objects in other namespaces are ignored, as the controller ignores them
  -f, --filename PATH  a file or directory, as kubectl spells it (same as a bare PATH);
                       - reads standard input (helm template ... | ferrolb validate -f -)
      --complete       the files hold the whole configuration: a reference to a missing
                       object, or one object defined twice, is an error`;

export interface ValidateArgs {
  readonly namespace: string;
  readonly complete: boolean;
  readonly paths: readonly string[];
}

export function parseValidateArgs(args: readonly string[]): ValidateArgs {
  let namespace = DEFAULT_NAMESPACE;
  let complete = false;
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      paths.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--namespace' || arg === '-n') {
      const value = args[++i];
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a namespace`);
      namespace = value;
    } else if (arg === '-f' || arg === '--filename') {
      // kubectl's spelling, for fingers used to `kubectl apply -f`.
      const value = args[++i];
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a file or directory`);
      paths.push(value);
    } else if (arg === '--complete') {
      complete = true;
    } else if (arg.startsWith('--namespace=')) {
      namespace = arg.slice('--namespace='.length);
      if (namespace === '') throw new UsageError('--namespace needs a namespace');
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else paths.push(arg);
  }
  const problem = checkDNSLabel(namespace);
  if (problem) throw new UsageError(`--namespace: ${problem}`);
  if (paths.length === 0) throw new UsageError('give at least one file or directory');
  return { namespace, complete, paths };
}

async function run(args: readonly string[], io: CommandIO): Promise<number> {
  const { namespace, complete, paths } = parseValidateArgs(args);
  const loaded = await loadDocuments(paths, { cwd: io.cwd, ...(io.stdin ? { stdin: io.stdin } : {}) });
  const built = buildConfig(loaded.documents, { namespace });
  // --complete: the files are the whole configuration, so nothing referred to can
  // arrive later (RULES.md "Order independence"), and one object defined twice is two
  // versions of it of which only the last would stay.
  const missing = (w: ConfigError): boolean => complete && (w.code === 'EREFERENCE' || w.code === 'EDUPLICATE');
  const errors = [...loaded.errors.filter((e) => !isWarning(e)), ...built.errors, ...built.warnings.filter(missing)];
  for (const note of built.notes) io.stdout(`note: ${note}\n`);
  const warnings = [...loaded.errors.filter(isWarning), ...built.warnings.filter((w) => !missing(w))];
  if (warnings.length > 0) io.stderr(warnings.map((w) => `warning: ${formatConfigError(w)}\n`).join(''));
  if (errors.length > 0) {
    io.stderr(errors.map((e) => formatConfigError(e) + '\n').join(''));
    io.stderr(`${errors.length} error${errors.length > 1 ? 's' : ''}: the configuration is not valid\n`);
    return 1;
  }
  const counts = new Map<string, number>();
  for (const o of built.objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  const total = built.objects.length;
  const summary = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
  io.stdout(
    total === 0
      ? `valid, but no metallb.io object in ${namespace}: nothing would be configured\n`
      : `${total} object${total > 1 ? 's' : ''} valid: ${summary}${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length > 1 ? 's' : ''})` : ''}\n`,
  );
  return 0;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check MetalLB configuration files, listing every error',
  usage: USAGE,
  run,
};
