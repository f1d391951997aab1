import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatPath, validateValue, type JSONSchema } from './schema.ts';

const schema: JSONSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[a-z]+$' },
    port: { type: 'integer', minimum: 1, maximum: 16384 },
    mode: { type: 'string', enum: ['internal', 'external'] },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    on: { type: 'boolean' },
  },
};

const codes = (v: unknown) => validateValue(v, schema).map((x) => `${x.code} ${formatPath(x.path)}`);

describe('validateValue', () => {
  it('accepts a conforming value, and treats null as absent', () => {
    assert.deepEqual(codes({ name: 'a', port: 179, mode: 'internal', tags: ['x'], labels: { a: 'b' }, free: { any: [1] }, on: false }), []);
    assert.deepEqual(codes({ name: 'a', port: null }), []);
  });
  it('reports every violation at its exact path', () => {
    assert.deepEqual(codes({ port: 1.5, mode: 'both', tags: [], labels: { a: 1 }, on: 'yes' }).sort(), [
      'EENUM mode',
      'ERANGE tags',
      'EREQUIRED name',
      'ETYPE labels.a',
      'ETYPE on',
      'ETYPE port',
    ]);
  });
  it('checks minimum, maximum, pattern and list items', () => {
    assert.deepEqual(codes({ name: 'A', port: 0 }), ['EPATTERN name', 'ERANGE port']);
    assert.deepEqual(codes({ name: 'a', port: 16385 }), ['ERANGE port']);
    assert.deepEqual(codes({ name: 'a', tags: ['ok', 3, null] }), ['ETYPE tags[1]', 'ETYPE tags[2]']);
  });
  it('reports unknown fields, with a hint for near misses', () => {
    const v = validateValue({ name: 'a', prot: 1, zzzzzz: 2 }, schema);
    assert.deepEqual(v.map((x) => x.message), ['unknown field "prot" (did you mean "port"?)', 'unknown field "zzzzzz"']);
    assert.ok(v.every((x) => x.code === 'EUNKNOWNFIELD'));
  });
  it('names the type it got', () => {
    const [v] = validateValue([], schema);
    assert.equal(v?.message, 'expected a mapping, got a list');
  });
});

describe('formatPath', () => {
  it('writes keys, indexes and quoted odd keys', () => {
    assert.equal(formatPath(['spec', 'addresses', 1]), 'spec.addresses[1]');
    assert.equal(formatPath(['metadata', 'labels', 'app.kubernetes.io/name']), 'metadata.labels["app.kubernetes.io/name"]');
    assert.equal(formatPath([]), '');
  });
});
