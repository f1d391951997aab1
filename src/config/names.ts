// Kubernetes' own syntax rules for names, label keys and values, and label selectors
// (k8s.io/apimachinery/pkg/util/validation and metav1.LabelSelectorAsSelector), so an
// object ferrolb accepts is one the API server would accept too.
import type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from '../api/selector.ts';
import type { FieldPath } from '../api/schema.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** RFC 1123 label: namespace names. Undefined when valid, else the reason. */
export function checkDNSLabel(value: string): string | undefined {
  if (value.length > 63) return `"${value}" is longer than 63 characters`;
  if (!DNS1123_LABEL.test(value)) {
    return `"${value}" is not a valid name: lowercase letters, digits and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** RFC 1123 subdomain: object names. */
export function checkDNSSubdomain(value: string): string | undefined {
  if (value.length > 253) return `"${value}" is longer than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return `"${value}" is not a valid name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** A label key: an optional DNS subdomain prefix and '/', then a name of <= 63 characters. */
export function checkLabelKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || checkDNSSubdomain(prefix) !== undefined)) {
    return `label key "${key}": the prefix before '/' must be a DNS subdomain`;
  }
  if (name === '' || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `label key "${key}" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (optionally prefixed by a DNS subdomain and '/')`;
  }
  return undefined;
}

/** A label value: empty, or <= 63 characters of the qualified-name alphabet. */
export function checkLabelValue(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !QUALIFIED_NAME.test(value)) {
    return `label value "${value}" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export interface SelectorProblem {
  readonly path: FieldPath;
  readonly message: string;
}

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/**
 * Checks one metav1.LabelSelector as metav1.LabelSelectorAsSelector would: label key and
 * value syntax; In and NotIn need values, Exists and DoesNotExist take none. Returns the
 * selector when valid. Values whose type is wrong were reported by the schema and are
 * skipped here.
 */
export function checkSelector(raw: unknown, path: FieldPath, problems: SelectorProblem[]): LabelSelector | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const before = problems.length;
  const src = raw as { matchLabels?: unknown; matchExpressions?: unknown };
  const matchLabels: Record<string, string> = {};
  if (isRecord(src.matchLabels)) {
    for (const [k, v] of Object.entries(src.matchLabels)) {
      const kp = [...path, 'matchLabels', k];
      const keyProblem = checkLabelKey(k);
      if (keyProblem) problems.push({ path: kp, message: keyProblem });
      if (typeof v === 'string') {
        const valueProblem = checkLabelValue(v);
        if (valueProblem) problems.push({ path: kp, message: valueProblem });
        matchLabels[k] = v;
      }
    }
  }
  const matchExpressions: LabelSelectorRequirement[] = [];
  if (Array.isArray(src.matchExpressions)) {
    src.matchExpressions.forEach((e: unknown, i) => {
      if (!isRecord(e)) return;
      const ep = [...path, 'matchExpressions', i];
      const { key, operator, values } = e;
      if (typeof key !== 'string' || typeof operator !== 'string') return;
      const keyProblem = checkLabelKey(key);
      if (keyProblem) problems.push({ path: [...ep, 'key'], message: keyProblem });
      if (!OPERATORS.includes(operator as SelectorOperator)) {
        problems.push({ path: [...ep, 'operator'], message: `"${operator}" is not a selector operator (In, NotIn, Exists, DoesNotExist)` });
        return;
      }
      const list = Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
      if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
        problems.push({ path: [...ep, 'values'], message: `operator ${operator} needs at least one value` });
      }
      if ((operator === 'Exists' || operator === 'DoesNotExist') && Array.isArray(values) && values.length > 0) {
        problems.push({ path: [...ep, 'values'], message: `operator ${operator} takes no values` });
      }
      list.forEach((v, j) => {
        const valueProblem = checkLabelValue(v);
        if (valueProblem) problems.push({ path: [...ep, 'values', j], message: valueProblem });
      });
      matchExpressions.push({ key, operator: operator as SelectorOperator, ...(list.length ? { values: list } : {}) });
    });
  }
  if (problems.length > before) return undefined;
  return {
    ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
    ...(matchExpressions.length ? { matchExpressions } : {}),
  };
}

/**
 * A canonical text of a selector, equal for selectors that select the same objects by
 * the same requirements (key order and value order do not matter).
 */
export function selectorKey(s: LabelSelector): string {
  const labels = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = (s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator} (${[...(e.values ?? [])].sort().join(',')})`);
  return [...labels, ...exprs].sort().join(' && ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A Linux network interface name (dev_valid_name in net/core/dev.c): 1..15 bytes
 * (IFNAMSIZ 16 with the NUL), no '/', ':' or whitespace, not "." or "..".
 */
export function checkInterfaceName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..' || Buffer.byteLength(name) > 15 || /[\s/:]/.test(name)) {
    return `"${name}" is not a Linux interface name (1 to 15 characters, no '/', ':' or spaces)`;
  }
  return undefined;
}

/**
 * Whether two node selector lists are taken to select disjoint nodes, from
 * configuration alone: both are set and no selector of one is identical (same
 * requirements) to a selector of the other. An empty list selects every node.
 */
export function nodesDisjoint(a: readonly LabelSelector[], b: readonly LabelSelector[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const keys = new Set(a.map(selectorKey));
  return !b.some((s) => keys.has(selectorKey(s)));
}
