// A small validator for the OpenAPI v3 structural-schema subset that CRDs use, with
// the behaviour of `kubectl apply --validate=strict`: wrong types, missing required
// fields, values outside enum/minimum/maximum/pattern, and unknown fields are errors
// naming the exact field. The schemas in metallb-schemas.ts are plain objects of this
// type, so the CRDs in deploy/ can be generated from them.

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface JSONSchema {
  readonly type?: SchemaType;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JSONSchema>>;
  readonly required?: readonly string[];
  /** A schema for the values of a map, as structural schemas allow (never `true`). */
  readonly additionalProperties?: JSONSchema;
  readonly items?: JSONSchema;
  readonly enum?: readonly (string | number | boolean)[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly format?: string;
  readonly default?: unknown;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}

/** One step into a document: a mapping key or a list index. */
export type FieldPath = readonly (string | number)[];

export type SchemaViolationCode = 'ETYPE' | 'EREQUIRED' | 'EENUM' | 'ERANGE' | 'EPATTERN' | 'EUNKNOWNFIELD';

export interface SchemaViolation {
  readonly code: SchemaViolationCode;
  readonly path: FieldPath;
  readonly message: string;
}

/** `spec.addresses[1]`, `metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** What a value is, in the words of a type error. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'a mapping';
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value)}`;
    case 'number':
      return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
    case 'boolean':
      return `the boolean ${value}`;
    default:
      return typeof value;
  }
}

const TYPE_WORD: Readonly<Record<SchemaType, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
};

function hasType(value: unknown, type: SchemaType): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}

/**
 * Validates a value against a schema; returns every violation (never stops at the
 * first). A null value counts as absent, as the API server prunes nulls of
 * non-nullable fields.
 */
export function validateValue(value: unknown, schema: JSONSchema, path: FieldPath = []): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  visit(value, schema, path, out);
  return out;
}

function visit(value: unknown, schema: JSONSchema, path: FieldPath, out: SchemaViolation[]): void {
  if (value === null || value === undefined) return;
  if (schema.type !== undefined && !hasType(value, schema.type)) {
    out.push({ code: 'ETYPE', path, message: `expected ${TYPE_WORD[schema.type]}, got ${describeType(value)}` });
    return;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value as string)) {
    out.push({
      code: 'EENUM',
      path,
      message: `${describeType(value)} is not one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`,
    });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      out.push({ code: 'ERANGE', path, message: `${value} is less than the minimum ${schema.minimum}` });
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      out.push({ code: 'ERANGE', path, message: `${value} is greater than the maximum ${schema.maximum}` });
    }
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      out.push({
        code: 'ERANGE',
        path,
        message: schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters long`,
      });
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      out.push({ code: 'ERANGE', path, message: `must be at most ${schema.maxLength} characters long` });
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      out.push({ code: 'EPATTERN', path, message: `${describeType(value)} does not match ${schema.pattern}` });
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      out.push({
        code: 'ERANGE',
        path,
        message: schema.minItems === 1 ? 'must not be empty' : `must have at least ${schema.minItems} items`,
      });
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      out.push({ code: 'ERANGE', path, message: `must have at most ${schema.maxItems} items` });
    }
    if (schema.items !== undefined) {
      const items = schema.items;
      value.forEach((item, i) => {
        if (item === null) {
          out.push({ code: 'ETYPE', path: [...path, i], message: `expected ${TYPE_WORD[items.type ?? 'object']}, got null` });
        } else visit(item, items, [...path, i], out);
      });
    }
  }
  if (schema.type === 'object' && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (obj[key] === undefined || obj[key] === null) {
        out.push({ code: 'EREQUIRED', path: [...path, key], message: 'is required' });
      }
    }
    for (const [key, child] of Object.entries(obj)) {
      const prop = schema.properties?.[key];
      if (prop !== undefined) visit(child, prop, [...path, key], out);
      else if (schema.additionalProperties !== undefined) visit(child, schema.additionalProperties, [...path, key], out);
      else if (schema['x-kubernetes-preserve-unknown-fields'] !== true) {
        const known = Object.keys(schema.properties ?? {});
        const hint = closest(key, known);
        out.push({
          code: 'EUNKNOWNFIELD',
          path: [...path, key],
          message: `unknown field "${key}"` + (hint ? ` (did you mean "${hint}"?)` : ''),
        });
      }
    }
  }
}

/**
 * The known name nearest to a misspelt one, when it is near enough to be a typo: the
 * one "did you mean" of ferrolb (fields, kinds, commands, options).
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 4)) ? best : undefined;
}

/** Edit distance counting a swap of two neighbours as one edit (typos like "prot"). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
      cur.push(d);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length] ?? Infinity;
}
