// Configuration documents as the builder takes them: each object with where it came
// from. Apart from the YAML loader (load.ts), so that what reads objects from the API
// server (the controller, the speakers, the webhook) does not load a YAML parser: the
// speaker runs on every node (docs/BENCHMARKS.md, "Footprint").
import type { FieldPath } from '../api/schema.ts';

export interface SourceDocument {
  /** The file as the user named it (directory entries joined to the directory). */
  readonly file?: string;
  /** 1-based line where the object starts. */
  readonly line?: number;
  readonly apiVersion: string;
  readonly kind: string;
  /** The document as plain data (a mapping with apiVersion and kind strings). */
  readonly object: Readonly<Record<string, unknown>>;
  /** Line of a field, or of its nearest ancestor present in the document. */
  readonly lineOf: (path: FieldPath) => number | undefined;
}

/**
 * Objects that came from the API server rather than from files (the controller's
 * informers), as documents for buildConfig: no file, no line. Objects without string
 * apiVersion and kind are dropped (the API server always sets them on list items it
 * returns through ferrolb's client).
 */
export function objectDocuments(objects: readonly unknown[]): SourceDocument[] {
  const out: SourceDocument[] = [];
  for (const o of objects) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) continue;
    const object = o as Record<string, unknown>;
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') continue;
    out.push({ apiVersion, kind, object, lineOf: () => undefined });
  }
  return out;
}
