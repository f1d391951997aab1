import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeManifest, loadDocuments, parseDocuments } from './load.ts';
import { objectDocuments } from './documents.ts';
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

describe('mistakes users make in files (issue 14 item 7)', () => {
  const POOL = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: first-pool\nspec:\n  addresses:\n  - 10.0.0.0/24\n';
  const lines = (text: string) => parseDocuments(text, 'f.yaml').errors.map(formatConfigError);
  it('skips a shell prompt, a file name or log lines pasted above the manifest, with a warning, keeping line numbers', () => {
    for (const [pasted, what] of [
      ['$ cat routing-config.yaml', 'a shell prompt'],
      ['user@host:~/metallb$ kubectl apply -f routing-config.yaml', 'a shell prompt'],
      ['examples/tutorial/routing-config.yaml:', 'a file name'],
      ['2022/09/11 19:58:19 MetalLB generator starting. commit: fb96318', 'log output'],
    ] as const) {
      const r = parseDocuments(`${pasted}\n${POOL}`, 'f.yaml');
      assert.deepEqual(r.errors.map(formatConfigError), [`f.yaml:1: line 1 is not YAML but ${what} pasted above the manifest: skipped (kubectl would refuse the file; delete it)`]);
      assert.equal(r.errors[0]!.severity, 'warning');
      assert.equal(r.documents[0]!.lineOf(['spec', 'addresses', 0]), 8, 'lines still count from the top of the file');
    }
    // A key that merely starts with '$' is YAML, not a prompt.
    assert.deepEqual(parseDocuments(`$schema: x\n${POOL}`, 'f.yaml').errors.map((e) => e.severity), []);
    // A malformed file without such lines is still an error, once.
    assert.deepEqual(lines('apiVersion: [\nkind: x\n').length, 1);
    assert.equal(parseDocuments('apiVersion: [\nkind: x\n', 'f.yaml').errors[0]!.severity, undefined);
  });
  it('skips a trailing document that is kubectl output pasted after the manifest', () => {
    const r = parseDocuments(`${POOL}---\npod "configmaptocrs" deleted\n`, 'f.yaml');
    assert.equal(r.documents.length, 1);
    assert.deepEqual(r.errors.map((e) => [e.severity, e.line]), [['warning', 9]]);
    // Any other scalar document is still refused.
    assert.equal(parseDocuments(`${POOL}---\njust words\n`, 'f.yaml').errors[0]!.code, 'ENOTMAPPING');
  });
  it('points an unclosed quote or bracket at the line that opens it', () => {
    assert.match(lines('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "a\ndata:\n  x: y\n')[0]!, /^f\.yaml:4: malformed YAML .*Missing closing "quote \(opened on line 4, still open on line \d+\)/);
    assert.match(lines('apiVersion: v1\nkind: ConfigMap\nspec:\n  addresses: [10.0.0.0/24\n---\napiVersion: v1\n')[0]!, /^f\.yaml:4: malformed YAML .*end with a \] \(opened on line 4/);
  });
  it('names the encoding of a file that is not UTF-8', () => {
    const utf16 = (le: boolean, bom: boolean) => {
      const body = Buffer.from(POOL, 'utf16le');
      if (!le) body.swap16();
      return bom ? Buffer.concat([Buffer.from(le ? [0xff, 0xfe] : [0xfe, 0xff]), body]) : body;
    };
    const reason = (b: Uint8Array) => {
      const d = decodeManifest(b);
      return 'reason' in d ? d.reason : '';
    };
    assert.match(reason(utf16(true, true)), /^is UTF-16LE text \(it starts with a byte-order mark\), not UTF-8/);
    assert.match(reason(utf16(false, true)), /^is UTF-16BE text \(it starts/);
    assert.match(reason(utf16(true, false)), /^is UTF-16LE text \(every other byte is zero\)/);
    assert.match(reason(utf16(false, false)), /^is UTF-16BE text/);
    const latin1 = decodeManifest(Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n', 'latin1'));
    assert.deepEqual(latin1, { reason: 'is not UTF-8: byte 0xE9 looks like a legacy 8-bit encoding (as Latin-1/Windows-1252 it is "é"); save the file as UTF-8 (e.g. `iconv -f WINDOWS-1252 -t UTF-8`)', line: 3 });
    assert.deepEqual(decodeManifest(Buffer.from('name: café ✓\n', 'utf8')), { text: 'name: café ✓\n' });
  });
});
