// `ferrolb controller`: assigns LoadBalancer IPs, as MetalLB's controller does.
import { KubeClient } from '../k8s/client.ts';
import { realClock } from '../k8s/clock.ts';
import { DEFAULT_TIMING, validateTiming, type ElectionTiming } from '../k8s/leader-election.ts';
import { Controller } from '../controller/controller.ts';
import { ControllerMetrics, serveMetrics } from '../observability/metrics.ts';
import { createLogger } from '../observability/logging.ts';
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
  let log;
  try {
    log = createLogger('controller', o.single['log-level'] ?? 'info');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let client: KubeClient;
  try {
    client = KubeClient.load(o.single.kubeconfig);
  } catch (err) {
    io.stderr(`ferrolb controller: cannot load kubeconfig${o.single.kubeconfig ? ` ${o.single.kubeconfig}` : ''}: ${(err as Error).message}\n`);
    return 1;
  }
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
  // Keep the process alive until SIGTERM/SIGINT, then shut down in order.
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    const stop = (signal: string) => {
      clearInterval(keepAlive);
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
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
