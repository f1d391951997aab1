import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadDocuments, objectDocuments, parseDocuments } from './load.ts';
import { formatConfigError } from './errors.ts';

const TWO = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: first-pool
spec:
  addresses:
  - 10.0.0.3-10.0.0.254
---
# a comment
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: example
`;

describe('parseDocuments', () => {
  it('returns every document with its file and first line, and field lines', () => {
    const r = parseDocuments(TWO, 'routing.yaml');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.documents.map((d) => [d.file, d.line, d.kind]), [['routing.yaml', 1, 'IPAddressPool'], ['routing.yaml', 10, 'L2Advertisement']]);
    const [pool] = r.documents;
    assert.equal(pool!.lineOf(['spec', 'addresses', 0]), 7);
    assert.equal(pool!.lineOf(['spec', 'addresses']), 6);
    assert.equal(pool!.lineOf(['spec', 'missing', 3]), 5, 'nearest present ancestor');
  });
  it('returns documents of any kind', () => {
    const r = parseDocuments('apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: y}\n', 's.yaml');
    assert.deepEqual(r.documents.map((d) => d.kind), ['Service', 'Namespace']);
  });
  it('reads JSON', () => {
    const r = parseDocuments('{"apiVersion": "metallb.io/v1beta1", "kind": "Community", "metadata": {"name": "c"}}', 'c.json');
    assert.equal(r.documents[0]?.kind, 'Community');
  });
  it('expands Lists, keeping item lines', () => {
    const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n- apiVersion: metallb.io/v1beta1\n  kind: BFDProfile\n';
    const r = parseDocuments(text, 'l.yaml');
    assert.deepEqual(r.documents.map((d) => [d.kind, d.line]), [['Service', 4], ['BFDProfile', 6]]);
    assert.equal(r.documents[1]!.lineOf(['kind']), 7);
  });
  it('reads YAML as kubectl does: go-yaml booleans, merge keys, no base-60 numbers', () => {
    const text = 'apiVersion: v1\nkind: X\nbase: &b {autoAssign: yes}\nspec:\n  <<: *b\n  avoidBuggyIPs: off\n  flag: Y\n  community: 64512:10\n  plain: "yes"\n';
    const [doc] = parseDocuments(text, 'k.yaml').documents;
    assert.deepEqual(doc!.object.spec, { autoAssign: true, avoidBuggyIPs: false, flag: true, community: '64512:10', plain: 'yes' });
  });
  it('skips empty documents between separators', () => {
    assert.equal(parseDocuments('---\n---\n' + TWO + '---\n', 'f').documents.length, 2);
  });

  const one = (text: string) => {
    const r = parseDocuments(text, 'bad.yaml');
    assert.equal(r.documents.length, 0);
    assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
    return r.errors[0]!;
  };
  it('reports malformed YAML with file and line', () => {
    const e = one('apiVersion: v1\nkind: Service\nmetadata: [\n');
    assert.equal(e.code, 'EYAML');
    assert.match(formatConfigError(e), /^bad\.yaml:\d+: malformed YAML/);
    assert.equal(one('a: 1\n  b: 2\n').code, 'EYAML');
  });
  it('reports duplicate keys', () => {
    const e = one('apiVersion: v1\nkind: A\nkind: B\n');
    assert.equal(e.code, 'EYAML');
    assert.equal(e.line, 3);
  });
  it('reports empty files', () => {
    assert.equal(one('').code, 'EEMPTY');
    assert.equal(one('# nothing here\n\n').code, 'EEMPTY');
    assert.equal(formatConfigError(one('---\n')), 'bad.yaml: holds no YAML document');
  });
  it('reports documents that are not mappings', () => {
    const e = one('apiVersion: v1\nkind: A\n---\n- a\n- b\n'.split('---\n')[1]!);
    assert.equal(e.code, 'ENOTMAPPING');
    assert.equal(one('just a string\n').code, 'ENOTMAPPING');
  });
  it('reports a missing apiVersion or kind on the document line', () => {
    const r = parseDocuments('apiVersion: v1\nkind: A\n---\nmetadata:\n  name: x\n', 'm.yaml');
    assert.equal(r.documents.length, 1);
    assert.equal(formatConfigError(r.errors[0]!), 'm.yaml:4: document 2: apiVersion is missing and kind is missing');
    assert.match(one('apiVersion: 1\nkind: [A]\n').message, /apiVersion is not a string and kind is not a string/);
  });
  it('bounds alias expansion', () => {
    const bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\napiVersion: v1\nkind: A\n';
    assert.equal(one(bomb).code, 'EYAML');
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = parseDocuments(Buffer.from(bytes).toString('utf8'), 'fuzz.yaml');
        for (const e of r.errors) assert.ok(!formatConfigError(e).includes('\n'));
      }),
      { numRuns: 300 },
    );
    const yamlish = fc.array(fc.constantFrom('apiVersion: v1\n', 'kind: X\n', '---\n', '- ', ': ', '  ', '{', '}', '[', ']', '&a ', '*a ', '"', "'", '\n', 'x', '#', '|\n', '? ', '!!int '), { maxLength: 40 });
    fc.assert(fc.property(yamlish, (parts) => void parseDocuments(parts.join(''), 'y.yaml')), { numRuns: 500 });
  });
});

describe('objectDocuments', () => {
  it('wraps API objects without file or line, dropping ones without apiVersion and kind', () => {
    const docs = objectDocuments([{ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'p' } }, { kind: 'X' }, null, []]);
    assert.deepEqual(docs.map((d) => [d.kind, d.file, d.line, d.lineOf(['spec'])]), [['IPAddressPool', undefined, undefined, undefined]]);
  });
});

describe('loadDocuments', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferrolb-load-'));
    await mkdir(join(dir, 'conf', 'nested'), { recursive: true });
    await writeFile(join(dir, 'conf', 'b.yaml'), 'apiVersion: v1\nkind: B\n');
    await writeFile(join(dir, 'conf', 'a.yml'), 'apiVersion: v1\nkind: A\n');
    await writeFile(join(dir, 'conf', 'c.json'), '{"apiVersion": "v1", "kind": "C"}');
    await writeFile(join(dir, 'conf', 'notes.txt'), 'not a manifest');
    await writeFile(join(dir, 'conf', 'nested', 'd.yaml'), 'apiVersion: v1\nkind: D\n');
    await writeFile(join(dir, 'latin1.yaml'), Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xe9, 0x0a]));
    await mkdir(join(dir, 'empty'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads the manifests of a directory, sorted, not recursively, named relative to the argument', async () => {
    const r = await loadDocuments(['conf'], { cwd: dir });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.documents.map((d) => [d.file, d.kind]), [[join('conf', 'a.yml'), 'A'], [join('conf', 'b.yaml'), 'B'], [join('conf', 'c.json'), 'C']]);
  });
  it('reports missing paths, empty directories and non-UTF-8 files, and goes on', async () => {
    const r = await loadDocuments(['nope.yaml', 'empty', 'latin1.yaml', 'conf/a.yml'], { cwd: dir });
    assert.deepEqual(r.errors.map((e) => [e.code, e.file]), [['ENOENT', 'nope.yaml'], ['EEMPTY', 'empty'], ['EREAD', 'latin1.yaml']]);
    assert.equal(formatConfigError(r.errors[0]!), 'nope.yaml: no such file or directory');
    assert.equal(r.documents.length, 1);
  });
});
