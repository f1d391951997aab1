// `ferrolb doctor`: the mistakes that make a MetalLB-style load balancer fail quietly,
// found from a ClusterView. Each finding names what is wrong and, where there is one,
// the fix. Pure.
import type { ClusterView, RuntimeFailure, ServiceReport } from './analyze.ts';
import { selectedNodes } from './analyze.ts';
import { FAILURE_REASON } from '../k8s/events.ts';
import type { RuntimeErrorCode } from '../observability/errors.ts';
import { NO_READY_ENDPOINTS } from '../planning/l2-plan.ts';
import { EXCLUDE_FROM_LB_LABEL, nodeExcluded } from '../api/cluster-view.ts';

export type Severity = 'ok' | 'info' | 'warn' | 'fail';

export interface Finding {
  readonly check: string;
  readonly severity: Severity;
  readonly message: string;
  readonly fix?: string;
  /** When a runtime failure is the cause: its stable code (docs/METRICS.md "Runtime error codes"). */
  readonly code?: RuntimeErrorCode;
}

type Add = (check: string, severity: Severity, message: string, fix?: string, code?: RuntimeErrorCode) => void;

export const STRICT_ARP_FIX = `kubectl get configmap kube-proxy -n kube-system -o yaml | sed -e "s/strictARP: false/strictARP: true/" | kubectl apply -f - -n kube-system
then restart kube-proxy: kubectl rollout restart daemonset kube-proxy -n kube-system`;

export function diagnose(view: ClusterView): Finding[] {
  const out: Finding[] = [];
  const add: Add = (check, severity, message, fix, code) => out.push({ check, severity, message, ...(fix !== undefined ? { fix } : {}), ...(code !== undefined ? { code } : {}) });

  kubeProxy(view, add);
  if (!view.crdsInstalled) {
    add('crds', 'fail', 'the metallb.io API is not served: the CRDs are not installed, so no pool can exist', 'kubectl apply -f deploy/crds');
    return out;
  }
  add('crds', 'ok', 'the metallb.io CRDs are installed');

  // The configuration, as every component builds it.
  if (view.configErrors.length > 0) {
    for (const e of view.configErrors) add('configuration', 'fail', e);
  } else if ((view.config?.pools.length ?? 0) === 0) {
    add('configuration', 'warn', `no IPAddressPool in namespace ${view.namespace}: no service can get an IP`, 'create an IPAddressPool (and an L2Advertisement or BGPAdvertisement) in that namespace');
  } else {
    const c = view.config!;
    add('configuration', 'ok', `valid: ${c.pools.length} pool(s), ${c.l2Advertisements.length} L2Advertisement(s), ${c.bgpAdvertisements.length} BGPAdvertisement(s), ${c.bgpPeers.length} BGPPeer(s)`);
  }

  // What the running components report (ConfigurationState).
  const controller = view.components.find((c) => c.name === 'controller');
  if (!controller) add('controller', 'warn', 'the controller has not reported (no ConfigurationState "controller"): is it running, with this namespace?');
  else if (controller.result !== 'Valid') add('controller', 'fail', `the controller rejects the configuration: ${controller.lastError || controller.result}`);
  else add('controller', 'ok', 'the controller reports the configuration valid');
  const silent: string[] = [];
  for (const node of view.nodes) {
    const speaker = view.components.find((c) => c.name === `speaker-${node.name}`);
    if (!speaker) silent.push(node.name);
    else if (speaker.result !== 'Valid') add('speakers', 'fail', `the speaker on ${node.name} rejects the configuration: ${speaker.lastError || speaker.result}`);
  }
  if (silent.length > 0) add('speakers', 'warn', `no speaker has reported from ${silent.join(', ')} (no ConfigurationState "speaker-<node>"): those nodes announce nothing`);
  else if (view.nodes.length > 0) add('speakers', 'ok', `a speaker has reported from every node (${view.nodes.length})`);
  membership(view, add);

  const config = view.config;
  if (config) {
    for (const p of view.pools) {
      if (p.l2Advertisements.length === 0 && p.bgpAdvertisements.length === 0) {
        add('pools', 'warn', `pool ${p.name}: no L2Advertisement or BGPAdvertisement selects it, so its IPs are assigned but nobody announces them`, `create an L2Advertisement with ipAddressPools: [${p.name}] in ${view.namespace}`);
      } else if (p.bgpAdvertisements.length > 0 && p.l2Advertisements.length === 0 && config.bgpPeers.length === 0) {
        add('pools', 'warn', `pool ${p.name} is advertised only over BGP, but there is no BGPPeer`);
      }
    }
    for (const ad of config.l2Advertisements) {
      if (ad.nodeSelectors.length > 0 && selectedNodes(ad.nodeSelectors, view.nodes).length === 0) add('selectors', 'warn', `L2Advertisement ${ad.name}: its nodeSelectors match no node`);
    }
    for (const ad of config.bgpAdvertisements) {
      if (ad.nodeSelectors.length > 0 && selectedNodes(ad.nodeSelectors, view.nodes).length === 0) add('selectors', 'warn', `BGPAdvertisement ${ad.name}: its nodeSelectors match no node`);
    }
    for (const peer of config.bgpPeers) {
      if (peer.nodeSelectors.length > 0 && selectedNodes(peer.nodeSelectors, view.nodes).length === 0) add('selectors', 'warn', `BGPPeer ${peer.name}: its nodeSelectors match no node, so no node peers with it`);
    }
  }
  const excluded = view.nodes.filter(nodeExcluded).map((n) => n.name);
  if (excluded.length > 0) add('nodes', 'info', `${excluded.join(', ')} carry ${EXCLUDE_FROM_LB_LABEL} and never announce`);

  const served = view.services.filter((s) => s.otherClass === undefined);
  let healthy = 0;
  for (const s of served) {
    const before = out.length;
    serviceFindings(s, view.failures, add);
    if (out.length === before) healthy++;
  }
  if (served.length > 0 && healthy === served.length) add('services', 'ok', `all ${served.length} LoadBalancer service(s) have an IP and are announced`);
  else if (served.length === 0) add('services', 'info', 'no LoadBalancer service yet');

  for (const c of view.conflicts) add('conflicts', 'fail', `${c.service}: ${c.message} (seen ${c.count} time(s), last ${c.at})`, 'find the host using that IP, or remove the IP from the pool');
  runtimeFailures(view, add);
  return out;
}

function serviceFindings(s: ServiceReport, failures: readonly RuntimeFailure[], add: Add): void {
  const key = `${s.namespace}/${s.name}`;
  if (s.ips.length === 0) {
    add('services', 'fail', `${key} has no IP: ${s.pendingReason ?? 'the controller has not assigned one (is it running?)'}`);
    return;
  }
  // Several nodes answering ARP for one IP splits the clients between them.
  // Several nodes reporting one L2 service: either both answer ARP (clients are split
  // between them) or a speaker died without removing its ServiceL2Status.
  const l2Nodes = [...new Set(s.l2.map((r) => r.node))];
  if (l2Nodes.length > 1 && new Set(s.expected.l2.map((e) => e.node)).size <= 1) {
    const elected = s.expected.l2[0]?.node;
    add('services', 'warn', `${key} is reported announced in L2 mode by several nodes (${l2Nodes.join(', ')})${elected ? `; with every speaker up, ${elected} is elected` : ''}: either several nodes answer ARP for it, or a speaker died and left its ServiceL2Status behind`);
    return;
  }
  if (s.l2.length > 0 || s.bgp.some((b) => b.peers.length > 0)) return;
  if (s.expected.l2.length > 0) {
    const nodes = [...new Set(s.expected.l2.map((e) => e.node))].join(', ');
    add('services', 'fail', `${key} (${s.ips.join(', ')}) should be announced in L2 mode from ${nodes}, but no speaker reports announcing it: is the speaker there running?`);
  } else if (s.expected.bgpNodes.length > 0) {
    // The sessions' own failures, when the speakers told them, say why.
    const why = newest(failures.filter((f) => f.reason === FAILURE_REASON.bgpSessionFailed && s.expected.bgpNodes.includes(f.reporter)));
    const cause = why ? `; the last session failure, ${why.reporter} to BGPPeer ${why.name} at ${why.at}: ${why.message}` : ': check the peers (ferrolb_bgp_session_up, the router\'s logs)';
    add('services', 'fail', `${key} (${s.ips.join(', ')}) should be announced over BGP from ${s.expected.bgpNodes.join(', ')}, but no established BGP session carries it${cause}`, undefined, why?.code);
  } else {
    const reasons = s.expected.l2Reasons.length > 0 ? s.expected.l2Reasons.join('; ') : 'no advertisement covers it';
    const severity: Severity = s.expected.l2Reasons.every((r) => r === NO_READY_ENDPOINTS) && s.expected.l2Reasons.length > 0 ? 'warn' : 'fail';
    add('services', severity, `${key} (${s.ips.join(', ')}) is announced by no node: ${reasons}`);
  }
}

function kubeProxy(view: ClusterView, add: Add): void {
  const kp = view.kubeProxy;
  if (!kp) {
    add('kube-proxy', 'info', 'no ConfigMap kube-system/kube-proxy: strictARP cannot be checked (if kube-proxy runs in IPVS mode, it needs ipvs.strictARP: true)');
    return;
  }
  if (kp.error) {
    add('kube-proxy', 'warn', `ConfigMap kube-system/kube-proxy: ${kp.error}`);
    return;
  }
  if (kp.mode !== 'ipvs') {
    add('kube-proxy', 'ok', `kube-proxy mode ${kp.mode || 'default (iptables)'}: strictARP is not needed`);
    return;
  }
  if (kp.strictARP) {
    add('kube-proxy', 'ok', 'kube-proxy mode ipvs with strictARP: true');
    return;
  }
  // IPVS binds every LB IP to kube-ipvs0 on every node; without strictARP (arp_ignore=1,
  // arp_announce=2) the kernel of every node answers ARP for them (tutorial step #4).
  const l2 = (view.config?.l2Advertisements.length ?? 0) > 0;
  add(
    'kube-proxy',
    l2 ? 'fail' : 'warn',
    `kube-proxy runs in IPVS mode without strictARP: every node's kernel answers ARP for every load-balancer IP${l2 ? ', so L2 mode sends clients to random nodes and failover does not work' : ' (this breaks L2 mode)'}`,
    STRICT_ARP_FIX,
  );
}

export function formatFindings(findings: readonly Finding[]): string {
  const label: Record<Severity, string> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' };
  const width = Math.max(0, ...findings.map((f) => f.check.length));
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${label[f.severity]}  ${f.check.padEnd(width)}  ${f.message}`);
    if (f.fix) for (const [i, l] of f.fix.split('\n').entries()) lines.push(`${' '.repeat(width + 8)}${i === 0 ? 'fix: ' : '     '}${l}`);
  }
  const fails = findings.filter((f) => f.severity === 'fail').length;
  const warns = findings.filter((f) => f.severity === 'warn').length;
  lines.push(fails + warns === 0 ? 'no problem found' : `${fails} problem(s), ${warns} warning(s)`);
  return lines.join('\n') + '\n';
}

/**
 * Speakers the others do not hear. A dead or frozen speaker cannot report itself, and
 * its ConfigurationState and ServiceL2Status objects stay as they were; the live
 * speakers' membership reports (condition MembersReachable) are the evidence. Both
 * sides deaf to each other is a partition of the membership traffic, both alive.
 */
function membership(view: ClusterView, add: Add): void {
  const speakers = view.components.filter((c) => c.name.startsWith('speaker-'));
  const nodeOf = (c: { name: string }) => c.name.slice('speaker-'.length);
  const hears = (c: (typeof speakers)[number], node: string) => !(c.unreachable ?? []).some((u) => u.node === node);
  const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  let found = false;
  for (const s of speakers) {
    const node = nodeOf(s);
    const deaf = speakers.filter((r) => r !== s && !hears(r, node));
    if (deaf.length === 0) continue;
    found = true;
    const since = Math.min(...deaf.map((r) => r.unreachable!.find((u) => u.node === node)!.since));
    const oneWay = deaf.filter((r) => hears(s, nodeOf(r)));
    if (oneWay.length === 0) {
      add('membership', 'warn', `the speakers on ${node} and on ${deaf.map(nodeOf).join(', ')} do not hear each other (since ${when(since)}): the membership traffic between them (UDP, port --ml-bind-port, 7946 by default) is cut, and each side announces what it takes to be its own; the LAN's address-conflict check arbitrates`, 'check that UDP 7946 passes between those nodes (host firewall, NetworkPolicy, security groups)');
    } else {
      add('membership', 'fail', `the speaker on ${node} is not heard by ${oneWay.map(nodeOf).join(', ')} since ${when(since)}: it is dead, frozen or cut off from them; its ConfigurationState and ServiceL2Status objects are stale, and its IPs are announced by the others`, `kubectl get pods -n ${view.namespace} -o wide --field-selector spec.nodeName=${node}, then kubectl logs -n ${view.namespace} that pod (or --previous)`);
    }
  }
  const reporting = speakers.filter((s) => s.unreachable !== undefined);
  if (!found && reporting.length > 1) add('membership', 'ok', `every speaker hears every other (${reporting.length} reporting)`);
}

/**
 * What the components told in Events about runtime failures, each with its code: a
 * write the API server refuses (fails when it leaves a Service without its IP), a BGP
 * session that fails (only told, info, when the session carries routes again).
 */
function runtimeFailures(view: ClusterView, add: Add): void {
  for (const f of view.failures) {
    const times = `${f.count} time(s), last ${f.at}`;
    if (f.reason === FAILURE_REASON.writeFailed) {
      const svc = f.kind === 'Service' ? view.services.find((s) => s.namespace === f.namespace && s.name === f.name) : undefined;
      const rbac = f.kind === 'Service' ? 'services and services/status' : 'ipaddresspools/status';
      add('writes', svc !== undefined && svc.ips.length === 0 ? 'fail' : 'warn', `the API server refuses the controller's writes to ${f.kind} ${f.namespace}/${f.name} (${times}): ${f.message}`, `check the controller's RBAC on ${rbac} and any admission webhook on ${f.kind}s`, f.code);
    } else {
      const carrying = view.services.some((s) => s.bgp.some((b) => b.node === f.reporter && b.peers.includes(f.name)));
      add('bgp', carrying ? 'info' : 'warn', `the BGP session from ${f.reporter} to BGPPeer ${f.namespace}/${f.name} failed (${times}): ${f.message}${carrying ? '; it carries routes now' : ''}`, undefined, f.code);
    }
  }
}

function newest(failures: readonly RuntimeFailure[]): RuntimeFailure | undefined {
  return failures.reduce<RuntimeFailure | undefined>((a, b) => (a === undefined || b.at > a.at ? b : a), undefined);
}
