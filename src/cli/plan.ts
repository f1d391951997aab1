// `ferrolb plan`: what the controller would do with this configuration and these
// services, computed offline on the controller's own code path (src/controller/simulate.ts).
import { loadDocuments, type SourceDocument } from '../config/load.ts';
import { buildConfig } from '../config/build.ts';
import { formatConfigError, isWarning, type ConfigError } from '../config/errors.ts';
import { simulate, assignmentOf, type PlannedService } from '../controller/simulate.ts';
import { formatIP } from '../net/ip.ts';
import type { V1Service } from '../api/service.ts';
import type { Labels } from '../api/selector.ts';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { parseArgs } from './args.ts';
import { formatData, outputFormat, SHORT_OPTIONS } from './output.ts';
import { advertisementAnnounces } from '../config/select.ts';
import { selectorKey } from '../config/names.ts';
import type { Config, Pool } from '../config/model.ts';
import type { LabelSelector } from '../api/selector.ts';

const USAGE = `Usage: ferrolb plan --config FILE_OR_DIR... --services FILE_OR_DIR... [-o table|wide|json|yaml]
                    [--namespace NS] [--lb-class NAME]

Simulates the controller: for each Service (in file order, as creation order) prints
the IPs and pool it would get, or why it gets none, or why it is skipped. A Service's
status.loadBalancer.ingress is an existing assignment; Namespace manifests supply the
labels that serviceAllocation.namespaceSelectors match.

  --config       metallb.io configuration (files or directories; repeatable)
  --services     v1 Service and Namespace manifests (files or directories; repeatable)
  -o, --output   table (default); wide adds which advertisements announce each IP (L2 or
                 BGP, with the nodes or peers they select); json and yaml hold all of it,
                 with the notes and warnings
  -                as a path: standard input
  --namespace    the load balancer's namespace (default metallb-system)
  --lb-class     handle only services of this loadBalancerClass

Exit status: 0 when the plan was computed (services without an IP are part of it),
1 when the input is invalid.`;

/** An advertisement that would announce a Service's IPs. */
export interface Announcer {
  kind: 'L2' | 'BGP';
  name: string;
  /** `every node`, or the nodeSelectors. */
  nodes: string;
  /** BGP: `every peer`, or the peer names. */
  peers?: string;
}

export interface PlanEntryJSON {
  namespace: string;
  name: string;
  ips: string[];
  pool?: string;
  announcedBy?: Announcer[];
  error?: { reason: string; message: string };
  skipped?: string;
  warnings?: string[];
}

/** The advertisements of a Config that announce a Service's IPs from a pool. */
export function announcersOf(config: Config, pool: Pool, serviceLabels: Labels): Announcer[] {
  const nodes = (selectors: readonly LabelSelector[]) => (selectors.length === 0 ? 'every node' : selectors.map(selectorKey).join(' | '));
  return [
    ...config.l2Advertisements.filter((a) => advertisementAnnounces(a, pool, serviceLabels)).map((a): Announcer => ({ kind: 'L2', name: a.name, nodes: nodes(a.nodeSelectors) })),
    ...config.bgpAdvertisements
      .filter((a) => advertisementAnnounces(a, pool, serviceLabels))
      .map((a): Announcer => ({ kind: 'BGP', name: a.name, nodes: nodes(a.nodeSelectors), peers: a.peers.length === 0 ? 'every peer' : a.peers.join(',') })),
  ];
}

export function planEntry(p: PlannedService, config?: Config, serviceLabels: Labels = {}): PlanEntryJSON {
  const o = p.outcome;
  const held = assignmentOf(o);
  const entry: PlanEntryJSON = { namespace: p.namespace, name: p.name, ips: held ? held.ips.map(formatIP) : [] };
  if (held) entry.pool = held.pool;
  if (o.kind === 'failed') entry.error = { reason: o.reason, message: o.message };
  if (o.kind === 'skipped') entry.skipped = o.reason;
  const warnings = p.events.filter((e) => e.type === 'Warning' && e.reason !== (o.kind === 'failed' ? o.reason : '')).map((e) => `${e.reason}: ${e.message}`);
  const pool = held && config ? config.pools.find((x) => x.name === held.pool) : undefined;
  if (pool && config) {
    entry.announcedBy = announcersOf(config, pool, serviceLabels);
    // The commonest silent mistake: the IP is assigned and nothing answers for it.
    if (entry.announcedBy.length === 0) {
      warnings.push(`NotAnnounced: no L2Advertisement or BGPAdvertisement announces pool ${pool.name} for this service, so nothing will answer for ${entry.ips.join(', ')}`);
    }
  }
  if (warnings.length > 0) entry.warnings = warnings;
  return entry;
}

function table(entries: readonly PlanEntryJSON[], wide: boolean): string {
  const rows = [['NAMESPACE', 'NAME', 'EXTERNAL-IP', 'POOL', ...(wide ? ['ANNOUNCED-BY'] : []), 'NOTE']];
  for (const e of entries) {
    const ip = e.ips.length > 0 ? e.ips.join(',') : e.skipped !== undefined ? '-' : '<pending>';
    const note = e.skipped !== undefined ? `skipped: ${e.skipped}` : e.error ? `${e.error.reason}: ${e.error.message}` : (e.warnings ?? []).join('; ');
    const by = (e.announcedBy ?? []).map((a) => `${a.kind} ${a.name} (${a.nodes}${a.peers !== undefined ? ` -> ${a.peers}` : ''})`).join(', ');
    rows.push([e.namespace, e.name, ip, e.pool ?? '', ...(wide ? [by || '-'] : []), note]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function serviceError(d: SourceDocument, code: ConfigError['code'], message: string, path?: string): ConfigError {
  const meta = (d.object.metadata ?? {}) as Record<string, unknown>;
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : undefined;
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : d.kind === 'Service' ? 'default' : undefined;
  return {
    code,
    ...(d.file !== undefined ? { file: d.file } : {}),
    ...(d.line !== undefined ? { line: d.line } : {}),
    kind: d.kind,
    // The Service named, so a mistake in a file of many Services is found at once.
    ...(name !== undefined ? { name, ...(namespace !== undefined && d.kind === 'Service' ? { namespace } : {}) } : {}),
    ...(path !== undefined ? { path } : {}),
    message,
  };
}

/** Services in file order and Namespace labels, from the documents given to --services. */
export function readServiceInputs(docs: readonly SourceDocument[]): {
  services: V1Service[];
  namespaces: Map<string, Labels>;
  errors: ConfigError[];
  notes: string[];
} {
  const services: V1Service[] = [];
  const namespaces = new Map<string, Labels>();
  const errors: ConfigError[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  for (const d of docs) {
    const o = d.object as Record<string, unknown>;
    const meta = (o.metadata ?? {}) as Record<string, unknown>;
    const where = d.file !== undefined ? `${d.file}${d.line !== undefined ? `:${d.line}` : ''}: ` : '';
    if (d.apiVersion === 'v1' && d.kind === 'Namespace') {
      if (typeof meta.name !== 'string' || meta.name === '') errors.push(serviceError(d, 'EREQUIRED', 'metadata.name is required', 'metadata.name'));
      else namespaces.set(meta.name, labelsOf(meta.labels));
      continue;
    }
    if (d.apiVersion !== 'v1' || d.kind !== 'Service') {
      if (!d.apiVersion.startsWith('metallb.io/')) notes.push(`${where}${d.kind} ignored (plan reads Services and Namespaces)`);
      continue;
    }
    if (typeof meta.name !== 'string' || meta.name === '') {
      errors.push(serviceError(d, 'EREQUIRED', 'metadata.name is required', 'metadata.name'));
      continue;
    }
    const spec = o.spec;
    if (spec !== undefined && (typeof spec !== 'object' || spec === null || Array.isArray(spec))) {
      errors.push(serviceError(d, 'ETYPE', 'spec must be a mapping', 'spec'));
      continue;
    }
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
    const key = `${namespace}/${meta.name}`;
    if (seen.has(key)) {
      errors.push(serviceError(d, 'EDUPLICATE', `Service ${key} is defined twice`, 'metadata.name'));
      continue;
    }
    seen.add(key);
    services.push({ ...(o as V1Service), metadata: { ...(meta as V1Service['metadata']), name: meta.name, namespace } });
  }
  return { services, namespaces, errors, notes };
}

function labelsOf(v: unknown): Labels {
  if (typeof v !== 'object' || v === null) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

async function run(args: readonly string[], io: CommandIO): Promise<number> {
  const opts = parseArgs(args, {
    multi: ['config', 'services'],
    single: ['output', 'namespace', 'lb-class'],
    short: SHORT_OPTIONS,
  });
  const configPaths = opts.multi.config ?? [];
  const servicePaths = opts.multi.services ?? [];
  if (configPaths.length === 0) throw new UsageError('--config is required');
  if (servicePaths.length === 0) throw new UsageError('--services is required');
  if (opts.positional.length > 0) throw new UsageError(`unexpected argument "${opts.positional[0]}"`);
  const output = outputFormat(opts.single.output);
  const namespace = opts.single.namespace ?? 'metallb-system';

  if ([...configPaths, ...servicePaths].filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read once only');
  const stdin = io.stdin ? { stdin: io.stdin } : {};
  const configDocs = await loadDocuments(configPaths, { cwd: io.cwd, ...stdin });
  const serviceDocs = await loadDocuments(servicePaths, { cwd: io.cwd, ...stdin });
  const built = buildConfig(configDocs.documents, { namespace });
  const inputs = readServiceInputs(serviceDocs.documents);
  // Namespace manifests may sit with the configuration too.
  for (const [n, l] of readServiceInputs(configDocs.documents.filter((d) => d.kind === 'Namespace')).namespaces) {
    if (!inputs.namespaces.has(n)) inputs.namespaces.set(n, l);
  }
  const loadProblems = [...configDocs.errors, ...serviceDocs.errors];
  const errors = [...loadProblems.filter((e) => !isWarning(e)), ...built.errors, ...inputs.errors];
  const warnings = [...loadProblems.filter(isWarning), ...built.warnings];
  io.stderr(warnings.map((w) => `warning: ${formatConfigError(w)}\n`).join(''));
  if (errors.length > 0 || !built.config) {
    io.stderr(errors.map((e) => formatConfigError(e) + '\n').join('') + `ferrolb plan: ${errors.length} error(s); no plan computed\n`);
    return 1;
  }
  const lbClass = opts.single['lb-class'];
  const plan = simulate(built.config, inputs.services, inputs.namespaces, lbClass !== undefined ? { loadBalancerClass: lbClass } : {});
  const labelsOf = new Map(inputs.services.map((s) => [`${s.metadata?.namespace}/${s.metadata?.name}`, s.metadata?.labels ?? {}]));
  const config = built.config;
  const entries = plan.services.map((p) => planEntry(p, config, labelsOf.get(`${p.namespace}/${p.name}`)));
  const notes = [...built.notes, ...inputs.notes];
  if (output === 'json' || output === 'yaml') {
    // Everything the table shows and what it prints on the side, for scripts.
    io.stdout(formatData(output, { services: entries, ...(notes.length > 0 ? { notes } : {}), ...(warnings.length > 0 ? { warnings: warnings.map(formatConfigError) } : {}) }));
  } else {
    for (const n of notes) io.stderr(`note: ${n}\n`);
    io.stdout(table(entries, output === 'wide'));
  }
  return 0;
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'show which IPs the controller would assign to which services, offline',
  usage: USAGE,
  run,
};
