// Reading manifests: FILE_OR_DIR arguments → YAML/JSON documents, each tagged with its
// file and line. Shared by `validate` and `plan` (which also reads Service and Namespace
// manifests), so every document comes back whatever its kind. Bad input is reported as
// ConfigErrors, never thrown.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node, type ScalarTag } from 'yaml';
import type { FieldPath } from '../api/schema.ts';
import type { ConfigError } from './errors.ts';
import type { SourceDocument } from './documents.ts';

export type { SourceDocument } from './documents.ts';
import { isLegacyConfigData } from './legacy-format.ts';

export interface LoadResult {
  readonly documents: SourceDocument[];
  readonly errors: ConfigError[];
}

/** The extensions `kubectl apply -f DIR` reads. */
const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/**
 * Reads files and directories (their *.yaml, *.yml and *.json entries, sorted by name,
 * not recursive, as `kubectl apply -f DIR`). Paths are resolved against `cwd` but
 * reported as given.
 */
export async function loadDocuments(paths: readonly string[], options: { cwd?: string; stdin?: () => Promise<Uint8Array> } = {}): Promise<LoadResult> {
  const documents: SourceDocument[] = [];
  const errors: ConfigError[] = [];
  const cwd = options.cwd ?? process.cwd();
  for (const given of paths) {
    // `-` is standard input, as `kubectl apply -f -` reads it (`helm template ... | ferrolb validate -f -`).
    const files = given === '-' ? [STDIN] : await expand(given, cwd, errors);
    for (const file of files) {
      let bytes: Uint8Array;
      try {
        bytes = file === STDIN ? await (options.stdin ?? readStandardInput)() : await readFile(resolve(cwd, file));
      } catch (err) {
        errors.push({ code: 'EREAD', file, message: `cannot read: ${systemReason(err)}` });
        continue;
      }
      const decoded = decodeManifest(bytes);
      if ('reason' in decoded) {
        errors.push({ code: 'EREAD', file, ...(decoded.line !== undefined ? { line: decoded.line } : {}), message: decoded.reason });
        continue;
      }
      const text = decoded.text;
      const result = parseDocuments(text, file);
      documents.push(...result.documents);
      errors.push(...result.errors);
    }
  }
  return { documents, errors };
}

/**
 * Manifests are UTF-8, as kubectl reads them. Anything else is named, so the user knows
 * what to convert from: UTF-16 (what Windows PowerShell's `>` writes), UTF-32, or a
 * legacy 8-bit encoding (Latin-1 / Windows-1252, from an old editor).
 */
export function decodeManifest(bytes: Uint8Array): { text: string } | { reason: string; line?: number } {
  const starts = (...b: number[]) => b.every((x, i) => bytes[i] === x);
  const convert = (found: string, how: string) => ({ reason: `is ${found} text (${how}), not UTF-8: save it as UTF-8 (e.g. \`iconv -f ${found} -t UTF-8\`)` });
  const bom = 'it starts with a byte-order mark';
  if (starts(0xff, 0xfe, 0, 0) || starts(0, 0, 0xfe, 0xff)) return convert(bytes[0] === 0xff ? 'UTF-32LE' : 'UTF-32BE', bom);
  if (starts(0xff, 0xfe)) return convert('UTF-16LE', bom);
  if (starts(0xfe, 0xff)) return convert('UTF-16BE', bom);
  // Without a byte-order mark, UTF-16 text of ASCII characters has a zero in every other byte.
  if (bytes.length >= 4) {
    const sample = bytes.subarray(0, Math.min(bytes.length, 512));
    let evenZeros = 0;
    let oddZeros = 0;
    sample.forEach((b, i) => {
      if (b === 0) i % 2 === 0 ? evenZeros++ : oddZeros++;
    });
    const half = Math.floor(sample.length / 2);
    if (oddZeros > half * 0.6 && evenZeros === 0) return convert('UTF-16LE', 'every other byte is zero');
    if (evenZeros > half * 0.6 && oddZeros === 0) return convert('UTF-16BE', 'every other byte is zero');
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    // Name the first byte that is not UTF-8, with its line, read as Windows-1252.
    let line = 1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0x0a) line++;
      if (b < 0x80) continue;
      const length = b >= 0xf0 && b < 0xf5 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
      const valid = length > 0 && Array.from({ length: length - 1 }, (_, k) => bytes[i + 1 + k]).every((c) => c !== undefined && (c & 0xc0) === 0x80);
      if (valid) {
        i += length - 1;
        continue;
      }
      const shown = new TextDecoder('windows-1252').decode(bytes.subarray(i, i + 1));
      return {
        reason: `is not UTF-8: byte 0x${b.toString(16).toUpperCase()} looks like a legacy 8-bit encoding (as Latin-1/Windows-1252 it is "${shown}"); save the file as UTF-8 (e.g. \`iconv -f WINDOWS-1252 -t UTF-8\`)`,
        line,
      };
    }
    return { reason: 'is not UTF-8 text' };
  }
}

/** How standard input is named in messages (kubectl says STDIN too). */
export const STDIN = 'STDIN';

export async function readStandardInput(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function expand(given: string, cwd: string, errors: ConfigError[]): Promise<string[]> {
  const full = resolve(cwd, given);
  let info;
  try {
    info = await stat(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    errors.push(
      code === 'ENOENT'
        ? { code: 'ENOENT', file: given, message: 'no such file or directory' }
        : { code: 'EREAD', file: given, message: `cannot read: ${systemReason(err)}` },
    );
    return [];
  }
  if (!info.isDirectory()) return [given];
  let names: string[];
  try {
    const entries = await readdir(full, { withFileTypes: true });
    names = entries
      .filter((e) => !e.isDirectory() && MANIFEST_EXTENSIONS.some((ext) => e.name.endsWith(ext)))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    errors.push({ code: 'EREAD', file: given, message: `cannot read directory: ${systemReason(err)}` });
    return [];
  }
  if (names.length === 0) {
    errors.push({ code: 'EEMPTY', file: given, message: 'directory holds no .yaml, .yml or .json file' });
  }
  return names.map((n) => join(given, n));
}

function systemReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ''}` : String(e.message ?? err);
}

/**
 * kubectl reads YAML with go-yaml v2 (through sigs.k8s.io/yaml), whose booleans are
 * YAML 1.1's: `yes`, `on`, `y` ... are true. The YAML 1.2 core schema would read them as
 * strings and refuse `autoAssign: yes`, which `kubectl apply` accepts. Everything else
 * stays YAML 1.2 core (no base-60 numbers: `64512:10` remains a community string).
 */
const GO_YAML_BOOL: ScalarTag = {
  identify: (value) => typeof value === 'boolean',
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test: /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON|n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$/,
  resolve: (text) => /^(?:y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(text),
};

/** One YAML document as plain data, before any Kubernetes meaning is given to it. */
export interface YAMLDocument {
  /** A mapping (documents that are not are reported as ENOTMAPPING). */
  readonly value: Record<string, unknown>;
  /** `document 2`, for messages. */
  readonly ordinal: string;
  /** Line of a field, or of its nearest ancestor present in the document. */
  readonly lineOf: (path: FieldPath) => number | undefined;
}

function locationIn(file: string | undefined) {
  return (line: number | undefined): { file?: string; line?: number } => ({
    ...(file !== undefined ? { file } : {}),
    ...(line !== undefined && line > 0 ? { line } : {}),
  });
}

/**
 * Parses one multi-document YAML (or JSON) text, read as kubectl reads it (the header
 * of GO_YAML_BOOL). Empty documents between `---` are skipped, as kubectl skips them;
 * a text without any document is an error. Shared by parseDocuments and by the reader
 * of MetalLB's legacy ConfigMap data, which has no apiVersion and kind.
 */
export function parseYAMLDocuments(text: string, file?: string): { documents: YAMLDocument[]; errors: ConfigError[] } {
  // A shell prompt, a path or a tool's log lines pasted above the manifest (the
  // tutorial's `$ cat routing-config.yaml` copied with it) make the first document
  // malformed, or (`routing-config.yaml:`) add a key no object has. Such lines are never
  // a manifest's content: blanking them keeps every line number, and the warning says
  // what was skipped.
  const pasted = pastedPrefix(text);
  if (!pasted) return parseYAMLOnce(text, file);
  const lines = text.split('\n');
  const blanked = [...lines.slice(0, pasted.lines).map(() => ''), ...lines.slice(pasted.lines)].join('\n');
  const second = parseYAMLOnce(blanked, file);
  if (second.errors.some((e) => e.code === 'EYAML' && e.severity !== 'warning')) return parseYAMLOnce(text, file);
  const range = pasted.lines > 1 ? `lines 1-${pasted.lines} are` : 'line 1 is';
  return {
    documents: second.documents,
    errors: [
      {
        code: 'EYAML',
        severity: 'warning',
        ...locationIn(file)(1),
        message: `${range} not YAML but ${pasted.what.join(' and ')} pasted above the manifest: skipped (kubectl would refuse the file; delete ${pasted.lines > 1 ? 'them' : 'it'})`,
      },
      ...second.errors,
    ],
  };
}

/**
 * For "Missing closing quote" and "... end with a ]" errors: the nearest line at or before
 * `errorLine` where the quote or bracket is left open, by counting on each line.
 */
function openingLine(text: string, errorLine: number, message: string): number | undefined {
  const pair = /closing "quote/.test(message) ? ['"', '"'] : /closing 'quote/.test(message) ? ["'", "'"] : /end with a \]/.test(message) ? ['[', ']'] : /end with a \}/.test(message) ? ['{', '}'] : undefined;
  if (!pair) return undefined;
  const [open, close] = pair as [string, string];
  const lines = text.split('\n');
  const count = (line: string, c: string) => line.split(c).length - 1;
  for (let i = Math.min(errorLine, lines.length) - 1; i >= 0; i--) {
    const line = lines[i]!.replace(/^\s*#.*$/, '');
    const unbalanced = open === close ? count(line, open) % 2 === 1 : count(line, open) > count(line, close);
    if (unbalanced) return i + 1;
  }
  return undefined;
}

/** Lines that are not YAML but land in manifests by copy and paste, by what they look like. */
const PASTED_LINES: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  // `$ kubectl apply -f x.yaml`, `user@host:~/lab$ cat x.yaml`, `root@host:~# cat x.yaml`
  { what: 'a shell prompt', pattern: /^(?:[$%>]|[\w.-]+@[\w.-]+(?::\S*)?\s*[$#%])\s+\S/ },
  // `routing-config.yaml`, `examples/tutorial/routing-config.yaml:`
  { what: 'a file name', pattern: /^[\w./~-]*\.(?:ya?ml|json):?$/ },
  // `2022/09/11 19:58:19 MetalLB generator starting`
  { what: 'log output', pattern: /^\d{4}[-/]\d{2}[-/]\d{2}[ T]\d{2}:\d{2}/ },
  // `pod "configmaptocrs" deleted`, `ipaddresspool.metallb.io/first-pool created`
  { what: 'kubectl output', pattern: /^(?:[\w.-]+ "[^"]+"|[\w.-]+\/[\w.-]+) (?:created|deleted|configured|unchanged)(?: \(.*\))?$/ },
];

function pastedKind(line: string): string | undefined {
  return PASTED_LINES.find((p) => p.pattern.test(line.trim()))?.what;
}

/** The leading lines (blank ones and comments between them included) that were pasted. */
function pastedPrefix(text: string): { lines: number; what: string[] } | undefined {
  const lines = text.split('\n');
  const what = new Set<string>();
  let end = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || (line.startsWith('#') && !line.startsWith('#!'))) continue;
    const kind = pastedKind(line);
    if (!kind) break;
    what.add(kind);
    end = i + 1;
  }
  return what.size > 0 ? { lines: end, what: [...what] } : undefined;
}

function parseYAMLOnce(text: string, file?: string): { documents: YAMLDocument[]; errors: ConfigError[] } {
  const documents: YAMLDocument[] = [];
  const errors: ConfigError[] = [];
  const at = locationIn(file);
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lineCounter = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    // Unique keys: a duplicated key is an error, as in Kubernetes' strict decoding.
    // Merge keys (`<<: *base`) work, as in go-yaml.
    parsed = parseAllDocuments(source, {
      lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
      merge: true,
      customTags: (tags) => [GO_YAML_BOOL, ...tags.filter((t) => typeof t === 'string' || t.tag !== GO_YAML_BOOL.tag)],
    }) as Document.Parsed[];
  } catch (err) {
    errors.push({ code: 'EYAML', ...at(undefined), message: `malformed YAML: ${firstLine(err)}` });
    return { documents, errors };
  }
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line || 1;
  let seen = 0;
  parsed.forEach((doc, index) => {
    const ordinal = `document ${index + 1}`;
    const firstError = doc.errors[0];
    if (firstError) {
      const found = firstError.linePos?.[0].line ?? lineAt(firstError.pos[0]);
      // An unclosed quote or bracket is found where the text ends; the mistake is where it opens.
      const opened = openingLine(source, found, firstError.message);
      const line = opened ?? found;
      const where = opened !== undefined && opened !== found ? ` (opened on line ${opened}, still open on line ${found})` : '';
      errors.push({ code: 'EYAML', ...at(line), message: `malformed YAML (${ordinal}): ${firstLine(firstError)}${where}` });
      seen++;
      return;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && root.value === null && root.source === '')) return; // empty document
    seen++;
    const rootLine = root.range ? lineAt(root.range[0]) : undefined;
    if (!isMap(root)) {
      // The output of the command run after the manifest, pasted with it.
      const sourceLines = isScalar(root) && typeof root.source === 'string' ? root.source.split('\n') : [];
      const pasted = sourceLines.length > 0 && sourceLines.every((l) => pastedKind(l) !== undefined) ? pastedKind(sourceLines[0]!) : undefined;
      if (pasted) {
        errors.push({ code: 'EYAML', severity: 'warning', ...at(rootLine), message: `${ordinal} is not YAML but ${pasted} pasted with the manifest: skipped (kubectl would refuse the file; delete it)` });
        return;
      }
      const what = isSeq(root) ? 'a list' : 'a scalar';
      errors.push({ code: 'ENOTMAPPING', ...at(rootLine), message: `${ordinal} is ${what}, not a mapping with apiVersion and kind` });
      return;
    }
    let value: unknown;
    try {
      // maxAliasCount bounds "billion laughs" expansion of aliases.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push({ code: 'EYAML', ...at(rootLine), message: `malformed YAML (${ordinal}): ${firstLine(err)}` });
      return;
    }
    const lineOf = (path: FieldPath): number | undefined => locate(root, path, lineAt) ?? rootLine;
    documents.push({ value: value as Record<string, unknown>, ordinal, lineOf });
  });
  if (seen === 0 && errors.length === 0) {
    errors.push({ code: 'EEMPTY', ...at(undefined), message: 'holds no YAML document' });
  }
  return { documents, errors };
}

/**
 * Parses one multi-document YAML (or JSON) text into Kubernetes objects. A
 * `kind: List` (or any `*List` with `items`, as `kubectl get -o yaml` writes) is
 * expanded into its items.
 */
export function parseDocuments(text: string, file?: string): LoadResult {
  const documents: SourceDocument[] = [];
  const at = locationIn(file);
  const parsed = parseYAMLDocuments(text, file);
  const errors: ConfigError[] = parsed.errors;
  for (const d of parsed.documents) addObject(d.value, d.lineOf, [], d.ordinal);
  return { documents, errors };

  function addObject(value: Record<string, unknown>, lineOf: (p: FieldPath) => number | undefined, prefix: FieldPath, ordinal: string): void {
    // lineOf is relative to this object; prefix only names it in messages.
    const line = lineOf([]);
    const { apiVersion, kind } = value;
    const problems: string[] = [];
    if (apiVersion === undefined || apiVersion === null || apiVersion === '') problems.push('apiVersion is missing');
    else if (typeof apiVersion !== 'string') problems.push('apiVersion is not a string');
    if (kind === undefined || kind === null || kind === '') problems.push('kind is missing');
    else if (typeof kind !== 'string') problems.push('kind is not a string');
    if (problems.length > 0) {
      const where = prefix.length > 0 ? `${ordinal}, items[${String(prefix[1])}]` : ordinal;
      const legacy = prefix.length === 0 && isLegacyConfigData(value)
        ? ": this is MetalLB's configuration format before v0.13 (the `config` data of ConfigMap metallb-system/config), which MetalLB and ferrolb no longer read; convert it with `ferrolb migrate-config FILE`"
        : '';
      errors.push({ code: 'ETYPEMETA', ...at(line), message: `${where}: ${problems.join(' and ')}${legacy}` });
      return;
    }
    const items = value.items;
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(items) && prefix.length === 0) {
      items.forEach((item, i) => {
        const itemPath = ['items', i];
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          errors.push({ code: 'ENOTMAPPING', ...at(lineOf(itemPath)), message: `${ordinal}, items[${i}] is not a mapping` });
          return;
        }
        addObject(item as Record<string, unknown>, (p) => lineOf([...itemPath, ...p]), itemPath, ordinal);
      });
      return;
    }
    documents.push({
      ...at(line),
      apiVersion: apiVersion as string,
      kind: kind as string,
      object: value,
      lineOf,
    });
  }
}

/** The line of the deepest node on `path`: a mapping key's line, or a list item's. */
function locate(root: Node, path: FieldPath, lineAt: (offset: number) => number): number | undefined {
  let node: unknown = root;
  let line: number | undefined = (root as Node).range ? lineAt((root as Node).range![0]) : undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const key = pair.key as Node;
      if (key.range) line = lineAt(key.range[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      if (item.range) line = lineAt(item.range[0]);
      node = item;
    } else break;
  }
  return line;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return (message.split('\n')[0] ?? message).trim();
}

