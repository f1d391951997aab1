// `ferrolb status`: the load balancer's state at a glance, from a ClusterView. Pure.
import type { ClusterView, ServiceReport } from './analyze.ts';

export function formatStatus(view: ClusterView): string {
  const parts: string[] = [];
  if (!view.crdsInstalled) return 'the metallb.io CRDs are not installed (kubectl apply -f deploy/crds)\n';

  parts.push(
    'CONFIGURATION\n' +
      (view.configErrors.length === 0 ? `  valid (namespace ${view.namespace})\n` : view.configErrors.map((e) => `  invalid: ${e}\n`).join('')) +
      table(
        // NOT HEARD: the peers a speaker's membership misses; a speaker every other one
        // misses is dead or cut off, whatever its own (stale) row says (`ferrolb doctor`).
        ['COMPONENT', 'STATE', 'NOT HEARD', 'ERROR'],
        view.components.map((c) => [c.name, c.result, c.unreachable === undefined ? '' : c.unreachable.map((u) => u.node).join(',') || '-', c.lastError]),
      ),
  );
  parts.push(
    'POOLS\n' +
      table(
        ['NAME', 'ADDRESSES', 'ASSIGNED', 'AVAILABLE', 'ADVERTISED BY'],
        view.pools.map((p) => [
          p.name,
          p.addresses.join(','),
          String(p.assigned),
          String(p.available),
          [...p.l2Advertisements.map((a) => `L2:${a}`), ...p.bgpAdvertisements.map((a) => `BGP:${a}`)].join(',') || '(none)',
        ]),
      ),
  );
  parts.push(
    'SERVICES\n' +
      table(
        ['NAMESPACE', 'NAME', 'EXTERNAL-IP', 'POOL', 'ANNOUNCED BY'],
        view.services.map((s) => [s.namespace, s.name, s.ips.join(',') || '<pending>', s.pool ?? '', announcedBy(s)]),
      ),
  );
  return parts.join('\n');
}

/** "L2 node-2 (eth0)", "BGP node-1,node-2 -> router", or why nobody does. */
export function announcedBy(s: ServiceReport): string {
  if (s.otherClass !== undefined) return `(loadBalancerClass ${s.otherClass}: not ours)`;
  if (s.ips.length === 0) return s.pendingReason ? `pending: ${s.pendingReason}` : 'pending';
  const out: string[] = [];
  for (const r of s.l2) out.push(`L2 ${r.node}${r.interfaces.length > 0 ? ` (${r.interfaces.join(',')})` : ''}`);
  const bgp = s.bgp.filter((b) => b.peers.length > 0);
  if (bgp.length > 0) {
    const peers = [...new Set(bgp.flatMap((b) => b.peers))].sort();
    out.push(`BGP ${bgp.map((b) => b.node).join(',')} -> ${peers.join(',')}`);
  }
  if (out.length > 0) return out.join('; ');
  return `nobody${s.expected.l2Reasons.length > 0 ? `: ${s.expected.l2Reasons.join('; ')}` : ''}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '  (none)\n';
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n').join('');
}
