// Keeps docs/ARCHITECTURE.md "Layers" true: every relative import under src/ goes to a
// lower layer, or sideways only where the document lists it, and no two folders import
// each other, directly or round a cycle. The layer table is read from the document
// itself, so the rule is written in one place. And keeps the API server's edge in
// src/k8s: no path or raw request elsewhere.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));
const DOC = join(SRC, '..', 'docs', 'ARCHITECTURE.md');

interface Layering {
  /** Folder (relative to src/, `speaker/l2` style) -> layer number. */
  readonly layers: ReadonlyMap<string, number>;
  /** "from -> to" pairs allowed within one layer. */
  readonly sideways: ReadonlySet<string>;
}

interface Import {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/** The table rows `| 3 | \`ipam\`, \`planning\` | ... |` and the `- \`a\` → \`b\`:` lines. */
function readLayering(markdown: string): Layering {
  const layers = new Map<string, number>();
  const sideways = new Set<string>();
  for (const line of markdown.split('\n')) {
    const row = /^\|\s*(\d+)\s*\|([^|]*)\|/.exec(line);
    if (row) for (const [, folder] of row[2]!.matchAll(/`([^`]+)`/g)) layers.set(folder!, Number(row[1]));
    const side = /^- `([^`]+)` → `([^`]+)`:/.exec(line);
    if (side) sideways.add(`${side[1]} -> ${side[2]}`);
  }
  return { layers, sideways };
}

/** The folder a file counts in: its first directory under src/, `speaker/<sub>` for the speaker's subfolders. */
function folderOf(pathInSrc: string): string {
  const parts = pathInSrc.split(sep);
  if (parts.length === 1) return '.';
  if (parts[0] === 'speaker' && parts.length > 2) return `speaker/${parts[1]}`;
  return parts[0]!;
}

/** Relative specifiers of static imports and re-exports, and of import() with a literal. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const staticForm = /^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;
  const dynamicForm = /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(staticForm)) out.push(m[1]!);
  for (const m of source.matchAll(dynamicForm)) out.push(m[1]!);
  return out;
}

/** Every .ts file below root, as paths relative to it. */
function tsFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).sort();
}

function importsUnder(root: string): Import[] {
  const out: Import[] = [];
  for (const file of tsFiles(root)) {
    const path = join(root, file);
    for (const spec of specifiers(readFileSync(path, 'utf8'))) {
      const target = relative(root, resolve(dirname(path), spec));
      if (target.startsWith('..')) continue; // outside src/ (package.json and the like)
      out.push({ file, from: folderOf(file), to: folderOf(target) });
    }
  }
  return out;
}

/** One line per import against the layering, and per folder cycle. Pure. */
function violations(imports: readonly Import[], layering: Layering): string[] {
  const out: string[] = [];
  const edges = new Map<string, Set<string>>();
  for (const { file, from, to } of imports) {
    if (from === to || from === '.') continue;
    if (!edges.has(from)) edges.set(from, new Set());
    edges.get(from)!.add(to);
    const a = layering.layers.get(from);
    const b = layering.layers.get(to);
    if (a === undefined) out.push(`${file}: folder ${from} is in no layer of docs/ARCHITECTURE.md`);
    else if (b === undefined) out.push(`${file}: imports ${to}, a folder in no layer of docs/ARCHITECTURE.md`);
    else if (b > a) out.push(`${file}: ${from} (layer ${a}) imports ${to} (layer ${b}), a higher layer`);
    else if (b === a && !layering.sideways.has(`${from} -> ${to}`)) out.push(`${file}: ${from} imports ${to} in its own layer ${a}, not a listed sideways import`);
  }
  // Folder cycles (even through listed sideways imports): depth-first, grey = on the path.
  const colour = new Map<string, 'grey' | 'black'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    colour.set(node, 'grey');
    path.push(node);
    for (const next of [...(edges.get(node) ?? [])].sort()) {
      if (colour.get(next) === 'grey') out.push(`folder cycle: ${[...path.slice(path.indexOf(next)), next].join(' -> ')}`);
      else if (!colour.has(next)) visit(next);
    }
    path.pop();
    colour.set(node, 'black');
  };
  for (const node of [...edges.keys()].sort()) if (!colour.has(node)) visit(node);
  return [...new Set(out)];
}

/**
 * The API server's edge (docs/ARCHITECTURE.md "The shape"): outside src/k8s no code
 * spells an API path or sends a raw request; it calls src/k8s's typed operations and
 * takes paths from src/k8s/paths.ts. Tests are free to. One line per finding. Pure.
 */
function edgeViolations(file: string, source: string): string[] {
  if (file.startsWith(`k8s${sep}`) || /\.test(-support)?\.ts$/.test(file)) return [];
  const out: string[] = [];
  for (const [i, line] of source.split('\n').entries()) {
    if (/^\s*(\/\/|\*)/.test(line)) continue; // comments may cite a path
    if (/['"`]\/apis?\//.test(line)) out.push(`${file}:${i + 1}: an API path outside src/k8s (use src/k8s/paths.ts)`);
    if (/\.request\s*[<(]/.test(line)) out.push(`${file}:${i + 1}: a raw request outside src/k8s (use src/k8s/operations.ts)`);
  }
  return out;
}

function edgeViolationsUnder(root: string): string[] {
  return tsFiles(root).flatMap((file) => edgeViolations(file, readFileSync(join(root, file), 'utf8')));
}

describe('the API server\'s edge (docs/ARCHITECTURE.md "The shape")', () => {
  it('no API path or raw request outside src/k8s', () => {
    assert.deepEqual(edgeViolationsUnder(SRC), []);
  });

  it('would report a path and a raw request, not a comment, a test or src/k8s', () => {
    const source = ["await client.mergePatch(`/api/v1/namespaces/${ns}/services/${n}`, body);", "const l = await client.request<X>('GET', path);", '// PATCH /apis/metallb.io/v1beta1/... is what it sends'].join('\n');
    assert.deepEqual(edgeViolations(join('controller', 'x.ts'), source), [
      `${join('controller', 'x.ts')}:1: an API path outside src/k8s (use src/k8s/paths.ts)`,
      `${join('controller', 'x.ts')}:2: a raw request outside src/k8s (use src/k8s/operations.ts)`,
    ]);
    assert.deepEqual(edgeViolations(join('k8s', 'operations.ts'), source), []);
    assert.deepEqual(edgeViolations(join('controller', 'x.test.ts'), source), []);
  });
});

/**
 * Builtins whose ESM import costs far more than the module (docs/BENCHMARKS.md,
 * "Footprint"): an ESM import reads every export, and node:http's lazy `WebSocket`,
 * `CloseEvent` and `MessageEvent` getters then load Node's bundled undici (~10 MB of
 * resident memory). The daemons take node:http with process.getBuiltinModule. Only
 * `import type` is free: under verbatimModuleSyntax `import { type X }` stays as
 * `import {} from 'node:http'`, which still loads undici (checked). Tests are free to.
 * One line per finding. Pure.
 */
function costlyImports(file: string, source: string): string[] {
  if (/\.test(-support)?\.ts$/.test(file)) return [];
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*import\s+(?!type\s)[^;]*?\s+from\s*['"]node:http['"]/gm)) {
    out.push(`${file}:${source.slice(0, m.index).split('\n').length}: a value import of node:http (use process.getBuiltinModule('node:http'))`);
  }
  return out;
}

describe('imports that cost memory (docs/BENCHMARKS.md "Footprint")', () => {
  it('no value import of node:http under src/ outside tests', () => {
    assert.deepEqual(tsFiles(SRC).flatMap((file) => costlyImports(file, readFileSync(join(SRC, file), 'utf8'))), []);
  });

  it('would report a value import and `import { type X }`, not `import type` or a test', () => {
    const source = ["import { createServer, type Server } from 'node:http';", "import type { IncomingMessage } from 'node:http';", "import { type ServerResponse } from 'node:http';", "import * as http from \"node:http\";", "import { request } from 'node:https';"].join('\n');
    assert.deepEqual(costlyImports('x.ts', source), [
      "x.ts:1: a value import of node:http (use process.getBuiltinModule('node:http'))",
      "x.ts:3: a value import of node:http (use process.getBuiltinModule('node:http'))",
      "x.ts:4: a value import of node:http (use process.getBuiltinModule('node:http'))",
    ]);
    assert.deepEqual(costlyImports('x.test.ts', source), []);
  });
});

describe('layering (docs/ARCHITECTURE.md "Layers")', () => {
  const layering = readLayering(readFileSync(DOC, 'utf8'));

  it('reads the layer table from the document', () => {
    assert.equal(layering.layers.get('net'), 0);
    assert.equal(layering.layers.get('cli'), 6);
    assert.ok(layering.sideways.has('speaker/bgp -> speaker/bfd'));
    const folders = new Set(readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
    for (const f of folders) if (f !== 'speaker') assert.ok(layering.layers.has(f), `src/${f} has a layer`);
  });

  it('finds no import against the layers and no folder cycle under src/', () => {
    const imports = importsUnder(SRC);
    assert.ok(imports.length > 300, `read the imports (${imports.length})`);
    assert.deepEqual(violations(imports, layering), []);
  });

  it('would report an upward import, an unlisted sideways one and a cycle', () => {
    const imp = (file: string, to: string): Import => ({ file, from: folderOf(file), to: folderOf(to) });
    const found = violations(
      [imp('net/ip.ts', 'api/service.ts'), imp('ipam/allocator.ts', 'planning/l2-plan.ts'), imp('planning/x.ts', 'ipam/allocator.ts'), imp('speaker/bgp/session.ts', 'speaker/bfd/session.ts')],
      layering,
    );
    assert.deepEqual(found, [
      `${join('net', 'ip.ts')}: net (layer 0) imports api (layer 1), a higher layer`,
      `${join('ipam', 'allocator.ts')}: ipam imports planning in its own layer 3, not a listed sideways import`,
      `${join('planning', 'x.ts')}: planning imports ipam in its own layer 3, not a listed sideways import`,
      'folder cycle: ipam -> planning -> ipam',
    ]);
  });

  it('reads every form of import', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b/b.ts';",
      'import {\n  c,\n  d,\n} from "./c.ts";',
      "export { e } from './e.ts';",
      "import './side-effect.ts';",
      "const f = await import('./f.ts');",
      "import { readFileSync } from 'node:fs';",
      "// a comment that mentions from './not-an-import.ts' is not at a line start",
    ].join('\n');
    assert.deepEqual(specifiers(source), ['./a.ts', '../b/b.ts', './c.ts', './e.ts', './side-effect.ts', './f.ts']);
  });
});
