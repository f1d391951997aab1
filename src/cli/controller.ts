// `ferrolb controller`: assigns LoadBalancer IPs, as MetalLB's controller does.
import { realClock } from '../time/clock.ts';
import { podNamespace } from '../k8s/kubeconfig.ts';
import { DEFAULT_TIMING, validateTiming, type ElectionTiming } from '../k8s/leader-election.ts';
import { Controller } from '../controller/controller.ts';
import { ControllerMetrics } from '../observability/metrics.ts';
import { daemonClient, daemonLogger, METRICS_FLAGS, METRICS_OPTIONS, planDaemonEndpoints, untilSignal } from './daemon.ts';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { parseArgs, type ParsedArgs } from './args.ts';
import type { KubeClient } from '../k8s/client.ts';
import type { Logger } from '../observability/logging.ts';
import { translateMetalLBFlags } from './metallb-flags.ts';
import { filesTLS, WebhookServer, type TLSSource } from '../webhook/server.ts';
import { WebhookCertificates } from '../webhook/certificates.ts';
import { ensureMemberlistSecret } from '../controller/memberlist-secret.ts';
import { deleteControllerDeployment } from '../controller/removal.ts';

const USAGE = `Usage: ferrolb controller [--kubeconfig PATH] [--namespace metallb-system] [--lb-class NAME]
                          [--metrics-addr HOST:PORT] [--health-addr HOST:PORT] [--log-level info]
                          [--metrics-secure] [--metrics-cert-dir DIR]
                          [--leader-elect true|false] [--lease-duration 15s]
                          [--renew-deadline 10s] [--retry-period 2s]
                          [--webhook-mode enabled|disabled] [--webhook-port 9443]
                          [--cert-service-name ferrolb-webhook-service]
                          [--webhook-configuration-name ferrolb-webhook-configuration]
                          [--cert-extra-hosts NAME,IP,...] [--cert-dir DIR]
                          [--cert-secret-name ferrolb-webhook-cert]
                          [--ml-secret-name ferrolb-memberlist] [--deployment NAME]
       ferrolb controller --uninstall --deployment NAME [--namespace metallb-system]

Assigns IPs to Services of type LoadBalancer from the IPAddressPools in --namespace,
writing status.loadBalancer.ingress, the metallb.io/ip-allocated-from-pool annotation,
Events, pool status and ConfigurationState "controller". Without --kubeconfig it uses
the in-cluster service account. Metrics and /healthz on --metrics-addr (default
0.0.0.0:7472; "off" disables), and on --health-addr too when given. --metrics-secure
and --metrics-cert-dir as for \`ferrolb speaker\` (HTTPS, bearer token checked; the
health port plain, /healthz and /readyz only). SIGTERM shuts down
cleanly and hands the Lease over.

MetalLB's controller flags are accepted, so its manifests and Helm chart run ferrolb
with only the image changed: --port N (metrics on 0.0.0.0:N; in a
MetalLB manifest, HTTPS as MetalLB v0.16 serves it when N is 9120 or --health-probe-port
is given, else plain HTTP as before v0.16),
--health-probe-port, --log-level (all..none), --webhook-mode, --lb-class,
--ml-secret-name, --cert-dir, --cert-service-name, --webhook-secret, and
METALLB_NAMESPACE, METALLB_ML_SECRET_NAME and METALLB_DEPLOYMENT. With METALLB_POD_NAME set (MetalLB's
manifests) /healthz and /readyz are also served on MetalLB's probe port 17472, and the
webhook defaults to MetalLB's names (metallb-webhook-service,
metallb-webhook-configuration, Secret metallb-webhook-cert) and --leader-elect to false
(MetalLB's controller runs alone, and its RBAC grants no Leases). Flags that mean nothing here
(--tls-*, --pprof-bind-address, --webhook-secret, ...) are logged as warnings.

The validating webhook (HTTPS on --webhook-port) refuses metallb.io changes that would
make the configuration invalid and configuration objects outside --namespace; register
it with deploy/webhook/. Its certificate is the controller's own, kept in Secret
--cert-secret-name (default ferrolb-webhook-cert; for --cert-service-name.<namespace>.svc and --cert-extra-hosts,
renewed before expiry), with its CA written into the caBundle of
--webhook-configuration-name; or, with --cert-dir, tls.crt/tls.key from that directory
(cert-manager). Without a certificate the controller runs without it and says so.

The speakers' heartbeat key: Secret --ml-secret-name (key "secretkey") is created with a
random key when missing ("" disables).

Removal: when --namespace is deleted, or the Deployment --deployment (the controller's
own, in --namespace; deploy/ and the chart set it) is deleted other than with
--cascade=orphan, ferrolb is being removed, not restarted: the controller stops
assigning, clears the IPs and pool annotations it wrote on Services (they show
<pending> again) and deletes the ServiceL2Status, ServiceBGPStatus and
ConfigurationState objects, the two Secrets above and its Lease. A restart or a rolling
upgrade clears nothing. --uninstall does not run a controller: it deletes the
Deployment --deployment (foreground) and waits until it is gone, so the running
controller clears up while its permissions still stand; the chart runs it as a
pre-delete hook, before Helm deletes the RBAC. Exit 0 when the Deployment is gone.`;

function seconds(name: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(text);
  if (!m) throw new UsageError(`--${name} "${text}" is not a duration in seconds (like 15s)`);
  return Number(m[1]);
}

async function run(args: readonly string[], io: CommandIO): Promise<number> {
  const options = [...METRICS_OPTIONS, 'kubeconfig', 'namespace', 'lb-class', 'log-level', 'leader-elect', 'lease-duration', 'renew-deadline', 'retry-period', 'webhook-mode', 'webhook-port', 'cert-dir', 'cert-service-name', 'webhook-configuration-name', 'cert-extra-hosts', 'cert-secret-name', 'ml-secret-name', 'deployment'];
  // MetalLB's flags and environment, so its manifests run ferrolb unchanged.
  const metallb = translateMetalLBFlags('controller', args, process.env, options);
  const o = parseArgs(metallb.args, { single: options, flags: ['uninstall', ...METRICS_FLAGS] });
  const f = controllerFlags(o);
  if (o.flags.has('uninstall')) return uninstall(f.deployment, f.namespace, o.single.kubeconfig, io);
  const plan = planDaemonEndpoints('controller', o.single, o.flags, io);
  if (!plan) return 1;
  const log = daemonLogger('controller', o.single['log-level']);
  for (const warning of metallb.warnings) log.warn({ flag: warning.split(/[ :]/)[0] }, warning);
  const client = daemonClient('controller', o.single.kubeconfig, io);
  if (!client) return 1;
  const metrics = new ControllerMetrics();
  const webhook = new WebhookHolder();
  let stopping = false;
  const controller = new Controller(client, {
    namespace: f.namespace,
    ...(f.deployment !== undefined ? { deployment: f.deployment } : {}),
    // Only the Secrets the controller makes itself (a --cert-dir certificate is not).
    ownSecrets: [...(o.single['cert-dir'] === undefined ? [f.certSecret] : []), ...(f.mlSecret !== '' ? [f.mlSecret] : [])],
    // The Secrets are about to be deleted: nothing may create them again.
    onRemoval: () => {
      stopping = true;
      webhook.certificates?.stop();
    },
    ...(f.lbClass !== undefined ? { loadBalancerClass: f.lbClass } : {}),
    clock: realClock,
    log,
    metrics,
    election: f.election,
  });
  const endpoints = await plan.start(metrics.registry, () => controller.ready, client);
  log.info({ identity: controller.identity, namespace: f.namespace, server: client.server.href, ...endpoints.describe }, 'controller starting');
  controller.start();
  // In the background: the controller's main job does not wait for the webhook.
  if (f.webhookMode === 'enabled') void webhook.start(client, controller, o.single, f, log, metrics);
  if (f.mlSecret !== '') void ensureMemberlistSecret(client, f.namespace, f.mlSecret, realClock, log, () => stopping);
  await untilSignal(log);
  stopping = true;
  webhook.stop();
  await controller.stop();
  endpoints.close();
  client.close();
  return 0;
}

interface ControllerFlags {
  readonly namespace: string;
  readonly lbClass: string | undefined;
  readonly deployment: string | undefined;
  readonly election: ElectionTiming | false;
  readonly webhookMode: 'enabled' | 'disabled';
  readonly webhookPort: number;
  readonly certSecret: string;
  readonly mlSecret: string;
}

/** The flags checked, each refusal a UsageError naming the flag. */
function controllerFlags(o: ParsedArgs): ControllerFlags {
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
  const webhookMode = o.single['webhook-mode'] ?? 'enabled';
  if (webhookMode !== 'enabled' && webhookMode !== 'disabled') throw new UsageError('--webhook-mode must be enabled or disabled');
  const webhookPort = Number(o.single['webhook-port'] ?? '9443');
  if (!Number.isInteger(webhookPort) || webhookPort < 0 || webhookPort > 65535) throw new UsageError(`--webhook-port "${o.single['webhook-port']}" is not a port number`);
  const deployment = o.single.deployment;
  // Checked only where it is used (not by --uninstall, which names what is missing itself).
  if (!o.flags.has('uninstall') && deployment !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(deployment)) throw new UsageError(`--deployment "${deployment}" is not a Deployment name`);
  return {
    namespace: o.single.namespace ?? podNamespace() ?? 'metallb-system',
    lbClass: o.single['lb-class'],
    deployment,
    election: leaderElect === 'true' ? timing : false,
    webhookMode,
    webhookPort,
    certSecret: o.single['cert-secret-name'] ?? 'ferrolb-webhook-cert',
    mlSecret: o.single['ml-secret-name'] ?? 'ferrolb-memberlist',
  };
}

/** The webhook server and its certificates, started in the background and stopped with the controller. */
class WebhookHolder {
  server: WebhookServer | undefined;
  certificates: WebhookCertificates | undefined;

  async start(client: KubeClient, controller: Controller, single: ParsedArgs['single'], f: ControllerFlags, log: Logger, metrics: ControllerMetrics): Promise<void> {
    try {
      const tls = await this.#tls(client, controller, single, f, log);
      if (!tls) return;
      this.server = new WebhookServer({
        port: f.webhookPort,
        tls,
        namespace: f.namespace,
        current: () => controller.configObjects(),
        log,
        onDecision: (kind, operation, allowed) => metrics.webhookDecisions.inc({ kind, operation, allowed: String(allowed) }),
      });
      await this.server.start();
      log.info({ port: this.server.port, certificate: tls.describe }, 'webhook serving');
    } catch (err) {
      // The controller's main job goes on; only the early check of changes is missing.
      log.error({ err: (err as Error).message }, 'webhook not started; configuration changes are not checked before they are stored');
      this.certificates?.stop();
      this.certificates = undefined;
      this.server = undefined;
    }
  }

  /** --cert-dir's files, or the controller's own certificate in Secret --cert-secret-name; undefined when ferrolb is being removed. */
  async #tls(client: KubeClient, controller: Controller, single: ParsedArgs['single'], f: ControllerFlags, log: Logger): Promise<TLSSource | undefined> {
    const certDir = single['cert-dir'];
    if (certDir !== undefined) return filesTLS(certDir);
    const service = single['cert-service-name'] ?? 'ferrolb-webhook-service';
    const extra = (single['cert-extra-hosts'] ?? '').split(',').map((h) => h.trim()).filter((h) => h);
    const certs = new WebhookCertificates(client, {
      namespace: f.namespace,
      hosts: [`${service}.${f.namespace}.svc`, `${service}.${f.namespace}.svc.cluster.local`, ...extra],
      webhookConfiguration: single['webhook-configuration-name'] ?? 'ferrolb-webhook-configuration',
      secretName: f.certSecret,
      clock: realClock,
      log,
    });
    this.certificates = certs;
    if (controller.removed) return undefined;
    await certs.start();
    return {
      describe: `Secret ${f.namespace}/${f.certSecret}`,
      read: () => {
        const c = certs.current!;
        return { cert: c.tlsCert, key: c.tlsKey, stamp: c.tlsCert };
      },
    };
  }

  stop(): void {
    this.server?.stop();
    this.certificates?.stop();
    this.server = undefined;
    this.certificates = undefined;
  }
}

/** --uninstall: the controller's Deployment deleted and waited for (the chart's pre-delete hook). */
async function uninstall(deployment: string | undefined, namespace: string, kubeconfig: string | undefined, io: CommandIO): Promise<number> {
  if (deployment === undefined) throw new UsageError('--uninstall needs --deployment NAME (the controller\'s Deployment)');
  const client = daemonClient('controller', kubeconfig, io);
  if (!client) return 1;
  try {
    await deleteControllerDeployment(client, namespace, deployment, realClock, 90_000);
    io.stdout(`Deployment ${namespace}/${deployment} deleted: the controller cleared what it wrote\n`);
    return 0;
  } catch (err) {
    io.stderr(`ferrolb controller --uninstall: ${(err as Error).message}\n`);
    return 1;
  } finally {
    client.close();
  }
}

export const controllerCommand: Command = {
  name: 'controller',
  summary: 'run the controller: assign LoadBalancer IPs from the configured pools',
  usage: USAGE,
  run,
};
