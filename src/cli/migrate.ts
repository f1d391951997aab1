// `ferrolb migrate-config FILE`: MetalLB's configuration before v0.13 (a ConfigMap
// manifest, or its bare `config` data) → metallb.io resources on standard output, as
// MetalLB's configmaptocrs writes them (src/config/legacy.ts), checked by the same
// builder `validate` runs. Findings go to standard error.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { parseArgs } from './args.ts';
import { formatData, SHORT_OPTIONS } from './output.ts';
import { migrateLegacyConfig } from '../config/legacy.ts';
import { buildConfig } from '../config/build.ts';
import { decodeManifest, readStandardInput, STDIN } from '../config/load.ts';
import { objectDocuments } from '../config/documents.ts';
import { formatConfigError, isWarning, type ConfigError } from '../config/errors.ts';

const USAGE = `Usage: ferrolb migrate-config [-o yaml|json] [-f] FILE

Converts MetalLB's configuration format before v0.13 (ConfigMap metallb-system/config,
as a manifest or as the YAML of its \`config\` key) into metallb.io resources
(IPAddressPool, L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile, Community), the
same objects MetalLB's own converter writes. Prints them as YAML; apply them with
\`ferrolb migrate-config FILE > resources.yaml && kubectl apply -f resources.yaml\`.
FILE "-" reads standard input (\`kubectl get cm config -n metallb-system -o yaml |
ferrolb migrate-config -\`).

-o json prints a v1 List of them. Fields the converter does not carry over are named on standard error. Exit 0 when the
result is a valid configuration, 1 otherwise (the resources are still printed when the
conversion itself succeeded).`;

async function run(args: readonly string[], io: CommandIO): Promise<number> {
  // -f / --filename as kubectl spells it, or the file as the one operand.
  const o = parseArgs(args, { single: ['output', 'filename'], short: { ...SHORT_OPTIONS, f: 'filename' } });
  const files = [...(o.single.filename !== undefined ? [o.single.filename] : []), ...o.positional.filter((a) => a !== '--')];
  if (files.length !== 1) throw new UsageError('give exactly one FILE');
  const output = o.single.output ?? 'yaml';
  if (output !== 'yaml' && output !== 'json') throw new UsageError(`--output must be yaml or json (the resources are objects, not a table), not "${output}"`);
  const given = files[0]!;
  const file = given === '-' ? STDIN : given;
  let bytes: Uint8Array;
  try {
    bytes = given === '-' ? await (io.stdin ?? readStandardInput)() : await readFile(resolve(io.cwd, given));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr(`${file}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${code ?? (err as Error).message}`}\n`);
    return 1;
  }
  const decoded = decodeManifest(bytes);
  if ('reason' in decoded) {
    io.stderr(`${file}${decoded.line !== undefined ? `:${decoded.line}` : ''}: ${decoded.reason}\n`);
    return 1;
  }
  const migration = migrateLegacyConfig(decoded.text, file);
  const line = (e: ConfigError): string => `${isWarning(e) ? 'warning: ' : ''}${formatConfigError(e)}\n`;
  for (const note of migration.notes) io.stderr(`note: ${note}\n`);
  io.stderr(migration.findings.map(line).join(''));
  if (migration.objects.length === 0) {
    const failed = migration.findings.some((e) => !isWarning(e));
    io.stderr(failed ? `${file}: not converted\n` : `${file}: holds no configuration to convert\n`);
    return 1;
  }
  if (output === 'json') {
    // Several objects as JSON: a v1 List, as `kubectl get -o json` prints them.
    io.stdout(formatData('json', { apiVersion: 'v1', kind: 'List', items: migration.objects }));
  } else {
    io.stdout(`# Converted by \`ferrolb migrate-config ${given}\` from MetalLB's ConfigMap format (before v0.13).\n`);
    io.stdout(migration.objects.map((x) => stringify(x)).join('---\n'));
  }
  // The same check `validate` makes, on what was written: the legacy format allowed
  // what the resources refuse (an overlapping pool, a bad address), and the user should
  // know before applying.
  const namespace = migration.objects.map((o) => (o.metadata as { namespace?: string }).namespace).find((n) => n !== undefined);
  const built = buildConfig(objectDocuments(migration.objects), namespace !== undefined ? { namespace } : {});
  const problems = [...built.errors, ...built.warnings];
  if (problems.length > 0) io.stderr(`the converted resources: \n${problems.map((e) => '  ' + line(e)).join('')}`);
  return built.errors.length > 0 ? 1 : 0;
}

export const migrateConfigCommand: Command = {
  name: 'migrate-config',
  summary: "convert MetalLB's legacy ConfigMap (before v0.13) into metallb.io resources",
  usage: USAGE,
  run,
};
