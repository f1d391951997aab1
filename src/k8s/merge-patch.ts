// RFC 7386 JSON merge patch applied locally: what the API server does with a
// merge-patch+json PATCH, for writing the same change as a GET and a PUT when RBAC
// grants `update` but not `patch` (MetalLB's Roles do).

/** JSON.rawJSON (Node 21+; in the lib typings from ES2025 only). */
const isRawJSON = (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON;

/**
 * The target with the patch merged in: objects merge key by key, null deletes, anything
 * else replaces. A JSON.rawJSON value (the controller's int64 pool counts, beyond a
 * double's precision) is a number, not an object to merge into.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch) || isRawJSON(patch)) return patch;
  const base: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete base[key];
    else base[key] = applyMergePatch(base[key], value);
  }
  return base;
}
