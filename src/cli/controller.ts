// `ferrolb controller`: assigns LoadBalancer IPs, as MetalLB's controller does.
import { realClock } from '../k8s/clock.ts';
import { DEFAULT_TIMING, validateTiming, type ElectionTiming } from '../k8s/leader-election.ts';
import { Controller } from '../controller/controller.ts';
import { ControllerMetrics, serveMetrics } from '../observability/metrics.ts';
import { daemonClient, daemonLogger, untilSignal } from './daemon.ts';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { parseArgs } from './args.ts';

const USAGE = `Usage: ferrolb controller [--kubeconfig PATH] [--namespace metallb-system] [--lb-class NAME]
                          [--metrics-addr HOST:PORT] [--log-level info]
                          [--leader-elect true|false] [--lease-duration 15s]
                          [--renew-deadline 10s] [--retry-period 2s]

Assigns IPs to Services of type LoadBalancer from the IPAddressPools in --namespace,
writing status.loadBalancer.ingress, the metallb.io/ip-allocated-from-pool annotation,
Events, pool status and ConfigurationState "controller". Without --kubeconfig it uses
the in-cluster service account. Metrics and /healthz on --metrics-addr (default
0.0.0.0:7472; "off" disables). SIGTERM shuts down cleanly and hands the Lease over.`;

function seconds(name: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(text);
  if (!m) throw new UsageError(`--${name} "${text}" is not a duration in seconds (like 15s)`);
  return Number(m[1]);
}

async function run(args: readonly string[], io: CommandIO): Promise<number> {
  const o = parseArgs(args, {
    single: ['kubeconfig', 'namespace', 'lb-class', 'metrics-addr', 'log-level', 'leader-elect', 'lease-duration', 'renew-deadline', 'retry-period'],
  });
  if (o.positional.length > 0) throw new UsageError(`unexpected argument "${o.positional[0]}"`);
  const leaderElect = o.single['leader-elect'] ?? 'true';
  if (leaderElect !== 'true' && leaderElect !== 'false') throw new UsageError('--leader-elect must be true or false');
  const timing: ElectionTiming = {
    leaseDuration: seconds('lease-duration', o.single['lease-duration'], DEFAULT_TIMING.leaseDuration),
    renewDeadline: seconds('renew-deadline', o.single['renew-deadline'], DEFAULT_TIMING.renewDeadline),
    retryPeriod: seconds('retry-period', o.single['retry-period'], DEFAULT_TIMING.retryPeriod),
  };
  const bad = validateTiming(timing);
  if (bad) throw new UsageError(bad);
  const log = daemonLogger('controller', o.single['log-level']);
  const client = daemonClient('controller', o.single.kubeconfig, io);
  if (!client) return 1;
  const metrics = new ControllerMetrics();
  const lbClass = o.single['lb-class'];
  const controller = new Controller(client, {
    namespace: o.single.namespace ?? 'metallb-system',
    ...(lbClass !== undefined ? { loadBalancerClass: lbClass } : {}),
    clock: realClock,
    log,
    metrics,
    election: leaderElect === 'true' ? timing : false,
  });
  const metricsAddr = o.single['metrics-addr'] ?? '0.0.0.0:7472';
  const server = metricsAddr === 'off' ? undefined : await serveMetrics(metrics.registry, metricsAddr, () => controller.ready);
  log.info({ identity: controller.identity, namespace: o.single.namespace ?? 'metallb-system', server: client.server.href, metrics: metricsAddr }, 'controller starting');
  controller.start();
  await untilSignal(log);
  await controller.stop();
  server?.close();
  client.close();
  return 0;
}

export const controllerCommand: Command = {
  name: 'controller',
  summary: 'run the controller: assign LoadBalancer IPs from the configured pools',
  usage: USAGE,
  run,
};
