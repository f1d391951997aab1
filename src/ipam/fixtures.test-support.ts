// Builders for allocator tests: a pool or a service request from a few words.
import { parseAddressEntry, isAddressEntryError, type AddressRange } from '../net/range.ts';
import { parseIP, type IP } from '../net/ip.ts';
import type { Pool, ServiceAllocation } from '../config/model.ts';
import type { ServiceRequest } from '../api/service-request.ts';

export function pool(name: string, addresses: string[], extra: Partial<Omit<Pool, 'name' | 'ranges'>> = {}): Pool {
  const ranges: AddressRange[] = addresses.map((a) => {
    const r = parseAddressEntry(a);
    if (isAddressEntryError(r)) throw new Error(r.reason);
    return r;
  });
  return { name, labels: {}, ranges, autoAssign: true, avoidBuggyIPs: false, ...extra };
}

export function allocation(sa: Partial<ServiceAllocation>): ServiceAllocation {
  return { priority: 0, namespaces: [], namespaceSelectors: [], serviceSelectors: [], ...sa };
}

export function ip(text: string): IP {
  const v = parseIP(text);
  if (!v) throw new Error(`bad IP ${text}`);
  return v;
}

export function request(key: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  const [namespace, name] = key.includes('/') ? key.split('/') as [string, string] : ['default', key];
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: {},
    namespaceLabels: {},
    requestedIPs: [],
    sharingKey: '',
    backendKey: '',
    ports: [{ protocol: 'TCP', port: 80 }],
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
    ...extra,
  };
}
