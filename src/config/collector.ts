// The one error collector every kind's builder reports into, so that a configuration's
// errors are all found in one pass (never only the first) and each field is blamed at
// most once. Also the checks of fields that several kinds share (selector lists, name
// lists), which report into it.
import type { MetalLBKind } from '../api/metallb.ts';
import { formatPath, type FieldPath } from '../api/schema.ts';
import type { LabelSelector, Labels } from '../api/selector.ts';
import type { ConfigError, ConfigErrorCode } from './errors.ts';
import type { SourceDocument } from './documents.ts';
import { checkSelector, selectorKey, type SelectorProblem } from './names.ts';

/** A metallb.io configuration object of the load balancer's namespace, as read. */
export interface Entry {
  readonly doc: SourceDocument;
  readonly kind: MetalLBKind;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly spec: Readonly<Record<string, unknown>>;
}

export class ErrorCollector {
  /** Errors and warnings in the order found; buildConfig sorts them for reading. */
  readonly errors: ConfigError[] = [];
  readonly notes: string[] = [];
  /**
   * Objects that stay out of the Config until what they refer to exists (RULES.md
   * "Order independence"): a BGPPeer without its BFDProfile or Secret, a BGPAdvertisement
   * with an unknown Community alias. Used without it, they would do something else than
   * what was asked (a session without BFD, an announcement without its community).
   */
  readonly dormant = new Set<Entry>();
  /**
   * One error per field: a field the schema refused is not reported again by the
   * semantic checks (nor is a field reported twice by two of them).
   */
  readonly #faulted = new Set<string>();

  /** Takes the field's one slot for an error; false when it was taken already. */
  firstAt(kind: string, name: string, path: FieldPath): boolean {
    const key = faultKey(kind, name, path);
    if (this.#faulted.has(key)) return false;
    this.#faulted.add(key);
    return true;
  }

  fail(e: Entry, path: FieldPath, code: ConfigErrorCode, message: string): void {
    this.#report('error', e, path, code, message);
  }

  warn(e: Entry, path: FieldPath, code: ConfigErrorCode, message: string): void {
    this.#report('warning', e, path, code, message);
  }

  /** An error found before the document became an Entry (its kind, version, schema, metadata). */
  failDocument(doc: SourceDocument, kind: string, identity: { namespace: string; name: string } | undefined, path: FieldPath, code: ConfigErrorCode, message: string): void {
    if (identity && !this.firstAt(kind, identity.name, path)) return;
    this.errors.push({
      code,
      ...where(doc, path),
      kind,
      ...(identity ? identity : {}),
      ...(path.length ? { path: formatPath(path) } : {}),
      message,
    });
  }

  /** A warning about a document that is not metallb.io configuration (a legacy ConfigMap). */
  warnDocument(doc: SourceDocument, kind: string, identity: { namespace: string; name: string }, path: FieldPath, code: ConfigErrorCode, message: string): void {
    this.errors.push({ code, severity: 'warning', ...where(doc, path), kind, ...identity, path: formatPath(path), message });
  }

  /** Runs one object's checks; a bug in them must not hide the other errors nor reach the user as a stack trace. */
  guard(e: Entry, check: () => void): void {
    try {
      check();
    } catch (err) {
      this.fail(e, [], 'EINTERNAL', `internal error while checking this object: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #report(severity: 'error' | 'warning', e: Entry, path: FieldPath, code: ConfigErrorCode, message: string): void {
    // A warning does not take the field's one slot: an error found later is still reported.
    if (severity === 'warning' ? this.#faulted.has(faultKey(e.kind, e.name, path)) : !this.firstAt(e.kind, e.name, path)) return;
    this.errors.push({
      code,
      ...(severity === 'warning' ? { severity } : {}),
      ...where(e.doc, path),
      kind: e.kind,
      namespace: e.namespace,
      name: e.name,
      path: formatPath(path),
      message,
    });
  }
}

function faultKey(kind: string, name: string, path: FieldPath): string {
  return `${kind}\u0000${name}\u0000${formatPath(path)}`;
}

function where(doc: SourceDocument, path: FieldPath): { file?: string; line?: number } {
  const line = doc.lineOf(path) ?? doc.line;
  return { ...(doc.file !== undefined ? { file: doc.file } : {}), ...(line !== undefined ? { line } : {}) };
}

/** A list of label selectors: each checked, a repeated one refused. */
export function selectorList(c: ErrorCollector, e: Entry, path: FieldPath, raw: unknown): LabelSelector[] {
  if (!Array.isArray(raw)) return [];
  const out: LabelSelector[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, i) => {
    const problems: SelectorProblem[] = [];
    const selector = checkSelector(item, [...path, i], problems);
    for (const p of problems) c.fail(e, p.path, 'ESELECTOR', p.message);
    if (!selector) return;
    const key = selectorKey(selector);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      c.fail(e, [...path, i], 'EDUPLICATEENTRY', `the same selector as ${formatPath([...path, earlier])}`);
      return;
    }
    seen.set(key, i);
    out.push(selector);
  });
  return out;
}

/** A list of names, each with its index for messages; a repeated name refused. */
export function nameList(c: ErrorCollector, e: Entry, path: FieldPath, raw: unknown): { name: string; index: number }[] {
  if (!Array.isArray(raw)) return [];
  const out: { name: string; index: number }[] = [];
  const seen = new Map<string, number>();
  raw.forEach((item, i) => {
    if (typeof item !== 'string') return;
    const earlier = seen.get(item);
    if (earlier !== undefined) {
      c.fail(e, [...path, i], 'EDUPLICATEENTRY', `"${item}" is listed twice (also ${formatPath([...path, earlier])})`);
      return;
    }
    seen.set(item, i);
    out.push({ name: item, index: i });
  });
  return out;
}
