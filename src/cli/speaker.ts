// `ferrolb speaker`: announces LoadBalancer IPs from this node, as MetalLB's speaker
// does (L2 mode: ARP/NDP).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { realClock } from '../time/clock.ts';
import { podNamespace } from '../k8s/kubeconfig.ts';
import { Speaker } from '../speaker/speaker.ts';
import { MEMBERLIST_KEY } from '../api/metallb.ts';
import { SpeakerMetrics } from '../observability/metrics.ts';
import { UsageError, type Command, type CommandIO } from './io.ts';
import { parseArgs } from './args.ts';
import { translateMetalLBFlags } from './metallb-flags.ts';
import { daemonClient, daemonLogger, METRICS_FLAGS, METRICS_OPTIONS, planDaemonEndpoints, untilSignal } from './daemon.ts';
import { DEFAULT_DRAIN_TIME_S, MAX_DRAIN_TIME_S } from '../speaker/bgp/graceful-shutdown.ts';

const USAGE = `Usage: ferrolb speaker [--node-name NAME] [--kubeconfig PATH] [--namespace metallb-system]
                       [--lb-class NAME] [--metrics-addr HOST:PORT] [--health-addr HOST:PORT] [--log-level info]
                       [--metrics-secure] [--metrics-cert-dir DIR]
                       [--ml-bind-addr ::] [--ml-bind-port 7946] [--ml-secret-key-path PATH]
                       [--gratuitous-arp-interval SECONDS] [--bgp-drain-time SECONDS]

Answers ARP and NDP for the LoadBalancer IPs this node is elected to announce
(L2Advertisements in --namespace). Speakers find out which of them are alive from
heartbeats over UDP --ml-bind-port, without the API server, so a dead node's IPs move
within a second. With --ml-secret-key-path (or METALLB_ML_SECRET_KEY_PATH) heartbeats
are authenticated with that file's contents. The node name defaults to
METALLB_NODE_NAME, then NODE_NAME, then the host name. Metrics and /healthz on
--metrics-addr (default 0.0.0.0:7472; "off" disables), and on --health-addr too when
given. --metrics-secure serves /metrics over HTTPS and answers a scrape only when its
bearer token's user may get the nonResourceURL /metrics (TokenReview and
SubjectAccessReview, as kube-rbac-proxy and MetalLB); the certificate is tls.crt and
tls.key in --metrics-cert-dir (which implies --metrics-secure), else self-signed at start.
--health-addr then serves only /healthz and /readyz, plain, for the kubelet's probes.
SIGTERM leaves cleanly: the other speakers take over this node's IPs at once.
--gratuitous-arp-interval N (or METALLB_GRATUITOUS_ARP_INTERVAL, MetalLB's names) sends
one more gratuitous ARP / unsolicited NA for every IP held every N seconds, for switches
that forget quiet addresses (0, the default: only on taking an IP over).
--bgp-drain-time N: before its BGP routes go (the speaker stops, the node is excluded
from load balancers or drained), they are announced again with the GRACEFUL_SHUTDOWN
community (RFC 8326) and, to iBGP peers, LOCAL_PREF 0, and withdrawn N seconds later
(default 5, up to 300; 0 withdraws at once). A SIGTERM on a node that is not being
drained, with graceful restart negotiated, is a restart instead: the routes stay.

MetalLB's speaker flags are accepted, so its manifests and Helm chart run ferrolb with
only the image changed: --port N (metrics on 0.0.0.0:N; in a
MetalLB manifest, HTTPS as MetalLB v0.16 serves it when N is 9120 or --health-probe-port
is given, else plain HTTP as before v0.16), --health-probe-port,
--log-level (all..none), --node-name, --ml-bindaddr, --ml-bindport, --ml-secret-key-path,
--lb-class, and METALLB_ML_BIND_ADDR, METALLB_ML_BIND_PORT, METALLB_NAMESPACE; with
METALLB_POD_NAME set (MetalLB's manifests) /healthz and /readyz are also served on
MetalLB's probe port 17472. Flags that mean nothing here (--ml-labels, --frrk8s-*,
--tls-*, ...) are logged as warnings; MetalLB's --metrics-cert-dir is ferrolb's.`;

function port(text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--ml-bind-port "${text}" is not a port number`);
  return n;
}

/** --gratuitous-arp-interval: whole seconds, 0 (off) to a day. */
function seconds(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 86_400) throw new UsageError(`--gratuitous-arp-interval "${text}" is not a whole number of seconds from 0 (off) to 86400`);
  return n;
}

/** --bgp-drain-time: whole seconds, 0 (withdraw at once) to MAX_DRAIN_TIME_S. */
function drainSeconds(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_DRAIN_TIME_S;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > MAX_DRAIN_TIME_S) throw new UsageError(`--bgp-drain-time "${text}" is not a whole number of seconds from 0 (withdraw at once) to ${MAX_DRAIN_TIME_S}`);
  return n;
}

async function run(args: readonly string[], io: CommandIO): Promise<number> {
  const options = [...METRICS_OPTIONS, 'node-name', 'kubeconfig', 'namespace', 'lb-class', 'log-level', 'ml-bind-addr', 'ml-bind-port', 'ml-secret-key-path', 'gratuitous-arp-interval', 'bgp-drain-time'];
  // MetalLB's flags and environment, so its manifests run ferrolb unchanged.
  const metallb = translateMetalLBFlags('speaker', args, process.env, options);
  const o = parseArgs(metallb.args, { single: options, flags: METRICS_FLAGS });
  if (o.positional.length > 0) throw new UsageError(`unexpected argument "${o.positional[0]}"`);
  const node = o.single['node-name'] ?? process.env['METALLB_NODE_NAME'] ?? process.env['NODE_NAME'] ?? hostname();
  const mlPort = port(o.single['ml-bind-port'], 7946);
  const refreshSeconds = seconds(o.single['gratuitous-arp-interval'] ?? process.env['METALLB_GRATUITOUS_ARP_INTERVAL']);
  const drainS = drainSeconds(o.single['bgp-drain-time']);
  const keyPath = o.single['ml-secret-key-path'] ?? process.env['METALLB_ML_SECRET_KEY_PATH'];
  let key: Buffer | undefined;
  if (keyPath) {
    const read = readMemberlistKey(keyPath);
    if (typeof read === 'string') {
      io.stderr(`ferrolb speaker: ${read}\n`);
      return 1;
    }
    key = read;
  }
  const plan = planDaemonEndpoints('speaker', o.single, o.flags, io);
  if (!plan) return 1;
  const log = daemonLogger('speaker', o.single['log-level']);
  for (const warning of metallb.warnings) log.warn({ flag: warning.split(/[ :]/)[0] }, warning);
  const client = daemonClient('speaker', o.single.kubeconfig, io);
  if (!client) return 1;
  const metrics = new SpeakerMetrics();
  const lbClass = o.single['lb-class'];
  const namespace = o.single.namespace ?? podNamespace() ?? 'metallb-system';
  const speaker = new Speaker(client, {
    node,
    namespace,
    ...(lbClass !== undefined ? { loadBalancerClass: lbClass } : {}),
    clock: realClock,
    log,
    metrics,
    membership: { port: mlPort, ...(o.single['ml-bind-addr'] ? { bindAddress: o.single['ml-bind-addr'] } : {}), ...(key ? { key } : {}) },
    ...(refreshSeconds > 0 ? { responder: { refreshInterval: refreshSeconds * 1000 } } : {}),
    bgpDrainMs: drainS * 1000,
  });
  const endpoints = await plan.start(metrics.registry, () => speaker.ready, client);
  log.info({ node, namespace, server: client.server.href, ...endpoints.describe, memberlistPort: mlPort, authenticated: key !== undefined }, 'speaker starting');
  try {
    await speaker.start();
  } catch (err) {
    io.stderr(`ferrolb speaker: cannot start: ${(err as Error).message}\n`);
    endpoints.close();
    client.close();
    return 1;
  }
  await untilSignal(log);
  await speaker.stop();
  endpoints.close();
  client.close();
  return 0;
}

export const speakerCommand: Command = {
  name: 'speaker',
  summary: 'run a speaker on this node: announce LoadBalancer IPs (L2 ARP/NDP)',
  usage: USAGE,
  run,
};

/**
 * The heartbeat key: the file at `path`, or, when `path` is a directory, its file
 * `secretkey`. MetalLB's manifests and chart pass the directory the memberlist Secret is
 * mounted at (METALLB_ML_SECRET_KEY_PATH=/etc/ml_secret_key) and MetalLB reads
 * `secretkey` inside it (docs/METALLB.md "Command lines and manifests"); ferrolb's own manifest
 * names the file. A message naming the path when it cannot be used.
 */
export function readMemberlistKey(path: string): Buffer | string {
  let file = path;
  try {
    if (statSync(path).isDirectory()) file = join(path, MEMBERLIST_KEY);
    const key = readFileSync(file);
    return key.length > 0 ? key : `the memberlist key ${file} is empty`;
  } catch (err) {
    return `cannot read the memberlist key ${file}: ${(err as Error).message}`;
  }
}
