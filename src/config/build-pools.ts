// IPAddressPool objects: each address entry parsed (docs/COMPATIBILITY.md
// "IPAddressPool"), serviceAllocation read, and every entry of every pool checked
// against every other for overlap.
import { isAddressEntryError, isBuggyIP, parseAddressEntry, unservableParts, type AddressRange } from '../net/range.ts';
import type { Pool, ServiceAllocation } from './model.ts';
import { nameList, selectorList, type Entry, type ErrorCollector } from './collector.ts';
import { checkDNSLabel } from './names.ts';
import { findOverlaps, type Span } from './overlap.ts';
import { asBoolean, asInteger, asRecord, compare } from './raw.ts';

interface AddressOwner {
  readonly pool: Entry;
  readonly index: number;
  readonly text: string;
}

export function buildPools(c: ErrorCollector, entries: readonly Entry[]): Pool[] {
  const pools: Pool[] = [];
  const spans: Span<AddressOwner>[] = [];
  for (const e of entries) {
    c.guard(e, () => {
      const s = e.spec;
      const ranges: AddressRange[] = [];
      if (Array.isArray(s.addresses)) {
        if (s.addresses.length === 0) {
          c.fail(e, ['spec', 'addresses'], 'EADDRESS', 'lists no address: give at least one CIDR or range');
        }
        s.addresses.forEach((text: unknown, i) => {
          if (typeof text !== 'string') return;
          const parsed = parseAddressEntry(text);
          if (isAddressEntryError(parsed)) {
            // `- 10.0.0.0/24` followed by a line `   - 10.0.1.0/24` indented one space
            // more is YAML for one string "10.0.0.0/24 - 10.0.1.0/24": say so.
            const parts = text.split(/\s+-\s+/);
            const joined = parts.length > 1 && parts.every((p) => !isAddressEntryError(parseAddressEntry(p)));
            c.fail(e, ['spec', 'addresses', i], 'EADDRESS', joined ? `${parsed.reason} (it reads as ${parts.length} entries joined: is the next line's "- " indented more than this one's?)` : parsed.reason);
            return;
          }
          // A warning, not an error: MetalLB accepts these, but no client can reach them.
          const unservable = unservableParts(parsed);
          if (unservable.length > 0) {
            c.warn(e, ['spec', 'addresses', i], 'EADDRESS',
              `"${text}" includes ${unservable.map((u) => `${u.what}, ${u.cidr}`).join('; and ')}: a Service given one can never be reached`);
          }
          ranges.push(parsed);
          spans.push({ family: parsed.family, first: parsed.first, last: parsed.last, owner: { pool: e, index: i, text } });
        });
      }
      let serviceAllocation: ServiceAllocation | undefined;
      const sa = asRecord(s.serviceAllocation);
      if (sa) {
        const path = ['spec', 'serviceAllocation'];
        const namespaces = nameList(c, e, [...path, 'namespaces'], sa.namespaces);
        for (const ns of namespaces) {
          const problem = checkDNSLabel(ns.name);
          if (problem) c.fail(e, [...path, 'namespaces', ns.index], 'ENAMESPACE', problem);
        }
        serviceAllocation = {
          priority: asInteger(sa.priority) ?? 0,
          namespaces: namespaces.map((n) => n.name),
          namespaceSelectors: selectorList(c, e, [...path, 'namespaceSelectors'], sa.namespaceSelectors),
          serviceSelectors: selectorList(c, e, [...path, 'serviceSelectors'], sa.serviceSelectors),
        };
      }
      if (asBoolean(s.avoidBuggyIPs) === true) {
        for (const r of ranges) {
          // Only a range of at most two IPv4 addresses (x.255, x+1.0) can be all "buggy".
          if (r.family === 'IPv4' && r.last - r.first < 2n && [r.first, r.last].every((v) => isBuggyIP({ family: 'IPv4', value: v }))) {
            c.notes.push(`IPAddressPool ${e.namespace}/${e.name}: avoidBuggyIPs leaves no usable address in "${r.text}"`);
          }
        }
      }
      pools.push({
        name: e.name,
        labels: e.labels,
        ranges,
        autoAssign: asBoolean(s.autoAssign) ?? true,
        avoidBuggyIPs: asBoolean(s.avoidBuggyIPs) ?? false,
        ...(serviceAllocation ? { serviceAllocation } : {}),
      });
    });
  }
  const ownerOrder = (a: AddressOwner, b: AddressOwner): number => compare(a.pool.name, b.pool.name) || a.index - b.index;
  for (const { later, earlier } of findOverlaps(spans, ownerOrder)) {
    const other =
      earlier.owner.pool === later.owner.pool
        ? `spec.addresses[${earlier.owner.index}] "${earlier.owner.text}" of the same pool`
        : `"${earlier.owner.text}" of IPAddressPool ${earlier.owner.pool.name} (spec.addresses[${earlier.owner.index}])`;
    c.fail(later.owner.pool, ['spec', 'addresses', later.owner.index], 'EOVERLAP', `"${later.owner.text}" overlaps ${other}: an address may belong to one pool only`);
  }
  return pools;
}
