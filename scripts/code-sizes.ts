// File and function sizes of a source tree, for issue 13's "measure before and after":
// the largest files, the longest functions, and how many functions exceed 60 and 100
// lines. Tests and test support are left out. A function is any function declaration,
// method, accessor, constructor, function expression or arrow function with a block
// body; its lines run from its first to its last line, nested functions included.
//
// Run: node scripts/code-sizes.ts [DIR ...] [--top N]   (default: src lab/src)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '8' } }, allowPositionals: true });
const TOP = Number(values.top);
const roots = positionals.length > 0 ? positionals : ['src', 'lab/src'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (entry.endsWith('.ts') && !/\.test(-support)?\.ts$/.test(entry)) out.push(path);
  }
  return out;
}

interface Fn {
  readonly where: string;
  readonly lines: number;
}

function functionName(node: ts.Node, file: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(file);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(file);
  return '(anonymous)';
}

function functionsOf(path: string): Fn[] {
  const text = readFileSync(path, 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out: Fn[] = [];
  const visit = (node: ts.Node): void => {
    const isFunction =
      ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node) || ts.isFunctionExpression(node) || (ts.isArrowFunction(node) && ts.isBlock(node.body));
    if (isFunction && (node as ts.FunctionLikeDeclaration).body) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ where: `${path}:${first + 1} ${functionName(node, file)}`, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

for (const root of roots) {
  const files = sources(root).map((path) => ({ path, lines: readFileSync(path, 'utf8').split('\n').length - 1 }));
  const fns = files.flatMap((f) => functionsOf(f.path)).sort((a, b) => b.lines - a.lines);
  const total = files.reduce((n, f) => n + f.lines, 0);
  console.log(`${root}: ${files.length} files, ${total} lines, ${fns.length} functions; over 60 lines: ${fns.filter((f) => f.lines > 60).length}, over 100: ${fns.filter((f) => f.lines > 100).length}`);
  console.log('  largest files:');
  for (const f of files.sort((a, b) => b.lines - a.lines).slice(0, TOP)) console.log(`    ${String(f.lines).padStart(5)}  ${relative('.', f.path)}`);
  console.log('  longest functions:');
  for (const f of fns.slice(0, TOP)) console.log(`    ${String(f.lines).padStart(5)}  ${f.where}`);
}
