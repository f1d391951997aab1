// Writes deploy/ferrolb-native.yaml, everything ferrolb needs in one file in apply order,
// from the manifests in deploy/, and the parts of charts/ferrolb that are deploy/'s
// objects unchanged but for the namespace: crds/ (copies of deploy/crds/) and
// templates/rbac.yaml (deploy/rbac/'s identities and grants in the release namespace).
// Run by `npm run gen:native` (and by `npm run gen:crds`); test/deploy/native.test.ts
// fails when any of them is out of date.
//
//   node scripts/gen-native.ts                      write the two outputs in the repository
//   node scripts/gen-native.ts --image REF [-o F]   print (or write to F) the one file with
//                                                   another image, e.g. your registry's
//
// Generic on purpose: every *.yaml under deploy/ is a source, each document is copied as
// written (its comments say why) and only placed by its kind, so an edit to a probe, an
// env var or a rule shows up here without touching this script. What it refuses, by
// name: a kind with no place in APPLY_ORDER, an object defined twice, a document that is
// not a Kubernetes object, and workloads that disagree about the image.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseDocument } from 'yaml';

export const repoDir = join(import.meta.dirname, '..');
export const NATIVE = 'deploy/ferrolb-native.yaml';
export const CHART_RBAC = 'charts/ferrolb/templates/rbac.yaml';
export const CHART_CRDS = 'charts/ferrolb/crds';
/** The namespace deploy/ is written for; the chart puts the release namespace there. */
export const NAMESPACE = 'metallb-system';

/**
 * The order `kubectl apply -f` creates objects in is the file's order, and an object
 * whose prerequisite is missing fails: the namespace before anything in it, CRDs before
 * anything could use them, identities and their grants before the pods that run as
 * them, the webhook configuration last, once the Service it calls exists (with
 * failurePolicy Fail it refuses metallb.io changes until the controller answers, and
 * this file holds none).
 */
export const APPLY_ORDER: readonly string[] = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Deployment',
  'DaemonSet',
  'Service',
  'ValidatingWebhookConfiguration',
];

const WORKLOADS = new Set(['Deployment', 'DaemonSet']);
/** What the chart's templates/rbac.yaml holds: identities and grants, no values in them. */
const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export interface Source {
  /** Relative to the repository, e.g. deploy/ferrolb.yaml: named in errors and in the output. */
  readonly path: string;
  readonly text: string;
}

interface Doc {
  readonly source: string;
  readonly kind: string;
  readonly id: string;
  readonly text: string;
  readonly images: readonly { container: string; image: string }[];
}

/** Every *.yaml under deploy/ but the output itself, sorted by path (so the output is stable). */
export function readSources(deployDir = join(repoDir, 'deploy')): Source[] {
  const out: Source[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.yaml') && relative(repoDir, path) !== NATIVE) out.push({ path: relative(repoDir, path), text: readFileSync(path, 'utf8') });
    }
  };
  walk(deployDir);
  return out;
}

/**
 * A file's leading comment describes that file (how to apply it on its own, "generated,
 * do not edit"), which would mislead inside the one file: it is dropped. Comments inside
 * and between documents stay with the documents.
 */
function withoutHeader(text: string): string {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && /^\s*(#.*)?$/.test(lines[i]!)) i++;
  return lines.slice(i).join('\n');
}

function splitDocuments(source: Source): Doc[] {
  const docs: Doc[] = [];
  const chunks = withoutHeader(source.text).split(/^---[ \t]*(?:#.*)?$/m);
  chunks.forEach((chunk, index) => {
    const text = chunk.replace(/^\n+/, '').trimEnd();
    const where = `${source.path}: document ${index + 1}`;
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`${where}: not YAML: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as unknown;
    if (obj === null || obj === undefined) return; // only comments: nothing to apply
    const o = obj as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    if (typeof o.kind !== 'string' || typeof o.apiVersion !== 'string' || typeof o.metadata?.name !== 'string') {
      throw new Error(`${where}: not a Kubernetes object (it needs apiVersion, kind and metadata.name)`);
    }
    const name = `${o.kind} ${typeof o.metadata.namespace === 'string' ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
    if (!APPLY_ORDER.includes(o.kind)) {
      throw new Error(`${where} (${name}): kind ${o.kind} has no place in the apply order; add it to APPLY_ORDER in scripts/gen-native.ts`);
    }
    docs.push({ source: source.path, kind: o.kind, id: name, text, images: WORKLOADS.has(o.kind) ? imagesOf(obj) : [] });
  });
  return docs;
}

function imagesOf(obj: unknown): { container: string; image: string }[] {
  const spec = (obj as { spec?: { template?: { spec?: Record<string, unknown> } } }).spec?.template?.spec ?? {};
  const containers = [...((spec['initContainers'] as unknown[]) ?? []), ...((spec['containers'] as unknown[]) ?? [])] as { name?: string; image?: string }[];
  const kind = (obj as { kind: string; metadata: { name: string } });
  return containers.map((c) => ({ container: `${kind.kind} ${kind.metadata.name} container ${c.name ?? '?'}`, image: c.image ?? '' }));
}

/** Every object of the sources, each defined once. */
function documents(sources: readonly Source[]): Doc[] {
  const docs = sources.flatMap(splitDocuments);
  const seen = new Map<string, string>();
  for (const d of docs) {
    const before = seen.get(d.id);
    if (before !== undefined) throw new Error(`${d.source}: ${d.id} is also defined in ${before}; an object may be defined once`);
    seen.set(d.id, d.source);
  }
  return docs;
}

export interface NativeOptions {
  /** Replaces the image every workload names (which must be one image). */
  readonly image?: string;
}

export interface Native {
  readonly text: string;
  /** The image the workloads run (after NativeOptions.image). */
  readonly image: string;
}

/** The one file: the sources' objects in APPLY_ORDER (source order within a kind). */
export function renderNative(sources: readonly Source[], options: NativeOptions = {}): Native {
  const docs = documents(sources);
  // One image for every workload: it is the file's single image reference, which
  // --image replaces and the chart's image.repository/tag must equal.
  const images = docs.flatMap((d) => d.images);
  const distinct = [...new Set(images.map((i) => i.image))];
  if (distinct.length !== 1) {
    const list = images.map((i) => `${i.container}: ${i.image === '' ? '(none)' : i.image}`).join('; ');
    throw new Error(distinct.length === 0 ? 'deploy/ has no Deployment or DaemonSet container: nothing names the image' : `the workloads in deploy/ name different images (${list}); they must run one image`);
  }
  const sourceImage = distinct[0]!;
  const image = options.image ?? sourceImage;
  if (image.trim() === '' || /\s/.test(image)) throw new Error(`--image "${image}" is not an image reference`);
  const imageLine = new RegExp(`^(\\s*(?:- )?image:[ \\t]*)(["']?)${sourceImage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\2[ \\t]*$`, 'gm');

  const body = layOut(docs, (d) => (d.images.length > 0 ? d.text.replace(imageLine, `$1${image}`) : d.text));
  const header = [
    '# ferrolb in one file: the metallb-system namespace, the metallb.io CRDs, RBAC, the',
    '# controller Deployment, the speaker DaemonSet, the metrics Services and the validating',
    '# webhook. On a cluster without MetalLB:',
    '#   kubectl apply -f deploy/ferrolb-native.yaml',
    `# Image: ${image}${options.image === undefined ? ' (build it from the repository\'s Dockerfile: docker build -t ' + image + ' .;' : ' (chosen with --image;'}`,
    '# another image: node scripts/gen-native.ts --image REF -o FILE).',
    '# Generated by `npm run gen:native` from deploy/ (objects in apply order: namespace, CRDs,',
    '# identities and grants, workloads, Services, webhook configuration); do not edit: edit',
    '# the sources named above each object and regenerate.',
  ];
  return { text: `${header.join('\n')}\n${body}`, image };
}

/** The documents in APPLY_ORDER (source order within a kind), each under the name of its source. */
function layOut(docs: readonly Doc[], text: (d: Doc) => string): string {
  return APPLY_ORDER.flatMap((kind) => docs.filter((d) => d.kind === kind))
    .map((d) => `---\n# Source: ${d.source}\n${text(d)}\n`)
    .join('');
}

/**
 * The chart's templates/rbac.yaml: deploy/'s identities and grants as written, with the
 * release namespace for metallb-system. Refused: a source line that names metallb-system
 * other than as `namespace:` (a subject, a resourceName...), which the chart would leave
 * pointing at the wrong namespace, and `{{`, which Helm would take for a template.
 */
export function renderChartRbac(sources: readonly Source[]): string {
  const namespaceLine = new RegExp(`^(\\s*namespace:[ \\t]*)${NAMESPACE}[ \\t]*$`);
  const body = layOut(documents(sources).filter((d) => RBAC_KINDS.has(d.kind)), (d) => {
    for (const line of d.text.split('\n')) {
      if (line.includes('{{')) throw new Error(`${d.source}: ${d.id}: "${line.trim()}" holds "{{", which Helm would read as a template`);
      const code = line.replace(/^\s*#.*$/, '');
      if (code.includes(NAMESPACE) && !namespaceLine.test(line)) throw new Error(`${d.source}: ${d.id}: "${line.trim()}" names ${NAMESPACE} other than as its namespace; the chart cannot move it to the release namespace`);
    }
    return d.text.replace(new RegExp(namespaceLine.source, 'gm'), '$1{{ .Release.Namespace }}');
  });
  const header = [
    '{{- /*',
    'Generated by `npm run gen:native` from deploy/ (its ServiceAccounts, ClusterRoles, Roles',
    'and their bindings, in the release namespace instead of deploy/\'s); do not edit:',
    'edit deploy/rbac/ and regenerate.',
    '*/ -}}',
  ];
  return `${header.join('\n')}\n${body}`;
}

/** Every file the generator owns, by path relative to the repository. */
export function generatedFiles(sources: readonly Source[] = readSources()): Map<string, string> {
  const files = new Map<string, string>([[NATIVE, renderNative(sources).text], [CHART_RBAC, renderChartRbac(sources)]]);
  // Helm's crds/ convention: installed with the chart, never templated, upgraded or
  // deleted by Helm; so the files are deploy/crds/'s, byte for byte.
  for (const s of sources) if (s.path.startsWith('deploy/crds/')) files.set(`${CHART_CRDS}/${s.path.slice('deploy/crds/'.length)}`, s.text);
  return files;
}

function main(argv: readonly string[]): void {
  let image: string | undefined;
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--image') image = value();
    else if (a === '-o' || a === '--output') output = value();
    else throw new Error(`unknown argument "${a}" (expected --image REF, -o FILE)`);
  }
  if (image !== undefined || output !== undefined) {
    // The repository's file always names the default image; another goes elsewhere.
    const native = renderNative(readSources(), image !== undefined ? { image } : {});
    if (output === undefined || output === '-') process.stdout.write(native.text);
    else writeFileSync(output, native.text);
    return;
  }
  const files = generatedFiles();
  // A CRD removed from deploy/crds/ leaves the chart too.
  const crdDir = join(repoDir, CHART_CRDS);
  mkdirSync(crdDir, { recursive: true });
  for (const f of readdirSync(crdDir)) if (f.endsWith('.yaml') && !files.has(`${CHART_CRDS}/${f}`)) rmSync(join(crdDir, f));
  for (const [path, text] of files) {
    mkdirSync(dirname(join(repoDir, path)), { recursive: true });
    writeFileSync(join(repoDir, path), text);
  }
  console.log(`wrote ${[...files.keys()].filter((p) => !p.startsWith(CHART_CRDS)).join(', ')} and ${files.size - 2} CRDs to ${CHART_CRDS}/`);
}

if (import.meta.main) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`gen-native: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
