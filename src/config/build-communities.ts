// Community objects: named aliases for BGP community values, which BGPAdvertisements may
// use instead of the value (docs/COMPATIBILITY.md "BFDProfile and Community").
import type { BGPCommunity } from './model.ts';
import { parseCommunity } from './community.ts';
import type { Entry, ErrorCollector } from './collector.ts';
import { asRecord, asString } from './raw.ts';

export type CommunityAliases = ReadonlyMap<string, { readonly community: BGPCommunity; readonly entry: Entry; readonly index: number }>;

/** Every alias of the Community objects (sorted by name); a name defined twice is an error. */
export function buildCommunityAliases(c: ErrorCollector, entries: readonly Entry[]): CommunityAliases {
  const aliases = new Map<string, { community: BGPCommunity; entry: Entry; index: number }>();
  for (const e of entries) {
    c.guard(e, () => {
      const list = e.spec.communities;
      if (!Array.isArray(list)) return;
      list.forEach((raw, i) => {
        const alias = asRecord(raw);
        if (!alias) return;
        const path = ['spec', 'communities', i];
        const name = asString(alias.name);
        const value = asString(alias.value);
        if (!name) c.fail(e, [...path, 'name'], 'ECOMMUNITY', 'the alias name is required');
        if (!value) c.fail(e, [...path, 'value'], 'ECOMMUNITY', 'the community value is required');
        if (!name || !value) return;
        const parsed = parseCommunity(value);
        if ('reason' in parsed) {
          c.fail(e, [...path, 'value'], 'ECOMMUNITY', parsed.reason);
          return;
        }
        const earlier = aliases.get(name);
        if (earlier) {
          c.fail(
            e,
            [...path, 'name'],
            'EDUPLICATEENTRY',
            `Community alias "${name}" is already defined (Community ${earlier.entry.name}, spec.communities[${earlier.index}])`,
          );
          return;
        }
        aliases.set(name, { community: parsed.community, entry: e, index: i });
      });
    });
  }
  return aliases;
}
