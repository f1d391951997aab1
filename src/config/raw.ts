// Small readers of the raw values of a configuration object. A value of the wrong type
// reads as absent: the schema check has reported it already.


export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
export function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
export function asInteger(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}
export function asBoolean(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}
export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== 0;
}
/** Present but not of the expected type (the schema check reported it). */
export function isWrongType(v: unknown, type: 'string' | 'number' = 'string'): boolean {
  return v !== undefined && v !== null && typeof v !== type;
}

/** Code-point order, independent of locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
