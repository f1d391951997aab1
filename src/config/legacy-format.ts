// Recognising MetalLB's configuration before v0.13 (legacy.ts converts it), apart from
// the converter so that the configuration builder, which every ferrolb process runs,
// does not load the YAML parser the converter needs (docs/BENCHMARKS.md, "Footprint").

/** The top-level keys of the legacy `config` data. */
export const TOP_KEYS = ['peers', 'bgp-communities', 'address-pools', 'bfd-profiles'] as const;

/** Whether a mapping is the legacy `config` data (it has no apiVersion and kind). */
export function isLegacyConfigData(value: Readonly<Record<string, unknown>>): boolean {
  return TOP_KEYS.some((k) => k in value) && !('apiVersion' in value) && !('kind' in value);
}

/** Whether a v1 ConfigMap holds legacy configuration in its `config` key. */
export function isLegacyConfigMap(object: Readonly<Record<string, unknown>>): boolean {
  const data = object.data;
  if (typeof data !== 'object' || data === null) return false;
  const config = (data as Record<string, unknown>).config;
  return typeof config === 'string' && new RegExp(`^(?:${TOP_KEYS.join('|')})\\s*:`, 'm').test(config);
}

