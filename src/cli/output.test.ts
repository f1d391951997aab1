import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { formatData, outputFormat, SHORT_OPTIONS } from './output.ts';
import { parseArgs } from './args.ts';
import { UsageError } from './io.ts';

describe('-o / --output', () => {
  it('names table, wide, json and yaml; text is the table; anything else is a usage error naming them', () => {
    assert.equal(outputFormat(undefined), 'table');
    assert.equal(outputFormat('text'), 'table');
    for (const f of ['table', 'wide', 'json', 'yaml']) assert.equal(outputFormat(f), f);
    assert.throws(() => outputFormat('xml'), (e: unknown) => e instanceof UsageError && /one of table, wide, json, yaml, not "xml"/.test(e.message));
  });
  it("takes kubectl's short forms -o json, -o=json, -ojson and -n NS", () => {
    for (const args of [['-o', 'json'], ['-o=json'], ['-ojson'], ['--output', 'json'], ['--output=json']]) {
      assert.equal(parseArgs(args, { single: ['output'], short: SHORT_OPTIONS }).single.output, 'json', args.join(' '));
    }
    assert.equal(parseArgs(['-n', 'lb'], { single: ['namespace'], short: SHORT_OPTIONS }).single.namespace, 'lb');
    // Without the short form declared, -o is an argument like any other.
    assert.deepEqual(parseArgs(['-o'], { single: ['output'] }).positional, ['-o']);
  });
  it('json and yaml carry the same data', () => {
    const data = { services: [{ name: 'a', ips: ['10.0.0.1'] }], notes: ['n'] };
    assert.deepEqual(JSON.parse(formatData('json', data)), data);
    assert.deepEqual(parse(formatData('yaml', data)), data);
  });
});
