// `ferrolb status` and `ferrolb doctor`: read the cluster once (src/inspect/snapshot.ts)
// and print what the load balancer is doing, or what is wrong with it.
import { apiFailure, KubeClient } from '../k8s/client.ts';
import { formatRuntimeError } from '../observability/errors.ts';
import { takeSnapshot } from '../inspect/snapshot.ts';
import { analyze, type ClusterView } from '../inspect/analyze.ts';
import { diagnose, formatFindings } from '../inspect/doctor.ts';
import { formatStatus } from '../inspect/status.ts';
import { daemonClient } from './daemon.ts';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { parseArgs } from './args.ts';
import { formatData, outputFormat, SHORT_OPTIONS, type OutputFormat } from './output.ts';

const COMMON = `[--kubeconfig PATH] [-n|--namespace metallb-system] [--lb-class NAME]
                      [-o|--output table|wide|json|yaml]`;

async function readCluster(name: string, args: readonly string[], io: CommandIO): Promise<{ view: ClusterView; output: OutputFormat } | number> {
  const o = parseArgs(args, { single: ['kubeconfig', 'namespace', 'lb-class', 'output'], short: SHORT_OPTIONS });
  if (o.positional.length > 0) throw new UsageError(`unexpected argument "${o.positional[0]}"`);
  const output = outputFormat(o.single.output);
  const kubeconfig = o.single.kubeconfig ?? process.env['KUBECONFIG'];
  const client: KubeClient | undefined = daemonClient(name, kubeconfig, io);
  if (!client) return 1;
  try {
    const snap = await takeSnapshot(client, o.single.namespace ?? 'metallb-system');
    const lbClass = o.single['lb-class'];
    return { view: analyze(snap, lbClass !== undefined ? { loadBalancerClass: lbClass } : {}), output };
  } catch (err) {
    // The code says at once whether the server answered (EAPIREFUSED: RBAC, say) or not.
    io.stderr(`ferrolb ${name}: cannot read the cluster from ${client.server.href}: ${formatRuntimeError(apiFailure(err))}\n`);
    return 1;
  } finally {
    client.close();
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show pools, services, their IPs and which nodes announce them',
  usage: `Usage: ferrolb status ${COMMON}

Reads the cluster (as --kubeconfig, $KUBECONFIG or in-cluster) and prints the
configuration's state per component, each pool's use and advertisements, and each
LoadBalancer service's IPs and who announces them (from ServiceL2Status and
ServiceBGPStatus), or why nobody does. -o wide is the default text (it has no more
columns); json and yaml give the same data.`,
  async run(args, io) {
    const r = await readCluster('status', args, io);
    if (typeof r === 'number') return r;
    // The built Config is internal (bigint ranges); pools and services say what matters.
    const data = (): unknown => JSON.parse(JSON.stringify(r.view, (k, v: unknown) => (k === 'config' ? undefined : v)));
    io.stdout(r.output === 'json' || r.output === 'yaml' ? formatData(r.output, data()) : formatStatus(r.view));
    return 0;
  },
};

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'find what keeps load balancing from working (strictARP, pools nobody announces, ...)',
  usage: `Usage: ferrolb doctor ${COMMON}

Checks the cluster for the mistakes that make a load balancer fail quietly: kube-proxy
in IPVS mode without strictARP, missing CRDs, an invalid configuration, a component
rejecting it, nodes without a speaker, pools no advertisement covers, selectors that
match no node, services left without an IP or without an announcing node (with the
reason), and address conflicts. Exit status 1 when any check fails. -o wide is the
default text; json and yaml list the findings.`,
  async run(args, io) {
    const r = await readCluster('doctor', args, io);
    if (typeof r === 'number') return r;
    const findings = diagnose(r.view);
    io.stdout(r.output === 'json' || r.output === 'yaml' ? formatData(r.output, findings) : formatFindings(findings));
    return findings.some((f) => f.severity === 'fail') ? 1 : 0;
  },
};
