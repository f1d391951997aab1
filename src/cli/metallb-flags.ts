// MetalLB's command-line flags and environment for its controller and speaker, read by
// `ferrolb controller` and `ferrolb speaker`, so that MetalLB's manifests and Helm chart
// run ferrolb with only the image changed (issue 14 item 6). Pure: MetalLB's arguments
// and environment in, ferrolb's arguments and warnings out; a flag that means nothing
// here is accepted with a warning naming it, never an exit.
//
// MetalLB parses flags with Go's flag package: `-name` and `--name`, `=value` or the next
// argument, and booleans as `--name` or `--name=true|false`.

export type Component = 'controller' | 'speaker';

interface Flag {
  readonly components: readonly Component[];
  readonly bool?: boolean;
  /** ferrolb has an option of this name too, whose values MetalLB spells differently. */
  readonly shared?: boolean;
  /** ferrolb's arguments for the value, and a warning when it means less here than in MetalLB. */
  readonly translate: (value: string) => { readonly args?: readonly string[]; readonly warning?: string };
}

const BOTH: readonly Component[] = ['controller', 'speaker'];
const same = (name: string) => (value: string) => ({ args: [`--${name}`, value] });
const ignored = (why: string) => () => ({ warning: why });

// MetalLB's log levels (all, debug, info, warn, error, none) as ferrolb's.
const LOG_LEVELS: Readonly<Record<string, string>> = { all: 'trace', debug: 'debug', info: 'info', warn: 'warn', error: 'error', none: 'fatal' };

const FLAGS: Readonly<Record<string, Flag>> = {
  port: {
    components: BOTH,
    translate: (v) => {
      if (v === '0') return { args: ['--metrics-addr', 'off'] };
      if (!/^\d+$/.test(v)) return { warning: `--port "${v}" is not a port number; metrics stay on ferrolb's default address` };
      return { args: ['--metrics-addr', `0.0.0.0:${v}`] };
    },
  },
  'log-level': {
    components: BOTH,
    shared: true,
    translate: (v) => (LOG_LEVELS[v] !== undefined ? { args: ['--log-level', LOG_LEVELS[v]!] } : { args: ['--log-level', v] }),
  },
  namespace: { components: BOTH, translate: same('namespace') },
  'lb-class': { components: BOTH, translate: same('lb-class') },
  'health-probe-port': {
    components: BOTH,
    translate: (v) => (/^\d+$/.test(v) ? { args: ['--health-addr', v === '0' ? 'off' : `0.0.0.0:${v}`] } : { warning: `--health-probe-port "${v}" is not a port number: ignored` }),
  },
  'pod-name': { components: BOTH, translate: ignored('--pod-name has no meaning in ferrolb (the Lease identity is the host name and a random suffix): ignored') },
  'pprof-bind-address': { components: BOTH, translate: ignored('--pprof-bind-address: ferrolb has no pprof endpoint (Node.js: use --inspect): ignored') },
  'tls-min-version': { components: BOTH, translate: ignored('--tls-min-version: ferrolb serves the webhook and secure metrics with TLS 1.2 or later: ignored') },
  'tls-cipher-suites': { components: BOTH, translate: ignored("--tls-cipher-suites: ferrolb uses Node.js's default TLS ciphers: ignored") },
  'tls-curve-preferences': { components: BOTH, translate: ignored("--tls-curve-preferences: ferrolb uses Node.js's default curves: ignored") },
  // MetalLB's and ferrolb's name: HTTPS metrics with tls.crt/tls.key of DIR, tokens checked.
  'metrics-cert-dir': { components: BOTH, translate: same('metrics-cert-dir') },
  // Controller.
  'ml-secret-name': { components: ['controller'], translate: same('ml-secret-name') },
  // The controller's own Deployment: its deletion is ferrolb's removal (src/controller/removal.ts).
  deployment: { components: ['controller'], translate: same('deployment') },
  'disable-cert-rotation': { components: ['controller'], bool: true, translate: (v) => (v === 'true' ? { warning: '--disable-cert-rotation: ferrolb manages its certificate unless --cert-dir is given; give --cert-dir to serve your own' } : {}) },
  'cert-dir': { components: ['controller'], translate: same('cert-dir') },
  'cert-service-name': { components: ['controller'], translate: same('cert-service-name') },
  'webhook-mode': {
    components: ['controller'],
    shared: true,
    translate: (v) =>
      v === 'onlywebhook'
        ? { args: ['--webhook-mode', 'enabled'], warning: '--webhook-mode onlywebhook: ferrolb serves the webhook from the controller, which also assigns IPs' }
        : { args: ['--webhook-mode', v] },
  },
  'webhook-secret': { components: ['controller'], translate: same('cert-secret-name') },
  'webhook-http2': { components: ['controller'], bool: true, translate: ignored('--webhook-http2: ferrolb serves the webhook over HTTP/1.1: ignored') },
  // Speaker.
  'node-name': { components: ['speaker'], translate: same('node-name') },
  'ml-bindaddr': { components: ['speaker'], translate: same('ml-bind-addr') },
  'ml-bindport': { components: ['speaker'], translate: same('ml-bind-port') },
  'ml-secret-key-path': { components: ['speaker'], translate: same('ml-secret-key-path') },
  'ml-labels': { components: ['speaker'], translate: ignored('--ml-labels: ferrolb speakers find each other from the Nodes, not by pod labels: ignored') },
  'ml-wan-config': { components: ['speaker'], bool: true, translate: ignored('--ml-wan-config: ferrolb heartbeats have no WAN profile: ignored') },
  host: { components: ['speaker'], translate: ignored("--host: ferrolb takes the node's addresses from its Node object: ignored") },
  'bgp-debounce-timeout': { components: ['speaker'], translate: ignored('--bgp-debounce-timeout: ferrolb updates BGP announcements as configuration arrives: ignored') },
  'ignore-exclude-lb': { components: ['speaker'], bool: true, translate: ignored('--ignore-exclude-lb is not implemented in ferrolb: ignored') },
  'frrk8s-namespace': { components: ['speaker'], translate: ignored('--frrk8s-namespace: ferrolb speaks BGP itself, without FRR or frr-k8s: ignored') },
  'frrk8s-secret-passthrough': { components: ['speaker'], bool: true, translate: ignored('--frrk8s-secret-passthrough: ferrolb speaks BGP itself, without frr-k8s: ignored') },
};

// MetalLB's environment variables, read when the flag is not given (as MetalLB's flag
// defaults read them).
const ENV: readonly { readonly variable: string; readonly flag: string; readonly components: readonly Component[] }[] = [
  { variable: 'METALLB_NAMESPACE', flag: 'namespace', components: BOTH },
  { variable: 'METALLB_ML_SECRET_NAME', flag: 'ml-secret-name', components: ['controller'] },
  { variable: 'METALLB_DEPLOYMENT', flag: 'deployment', components: ['controller'] },
  { variable: 'METALLB_ML_BIND_ADDR', flag: 'ml-bindaddr', components: ['speaker'] },
  { variable: 'METALLB_ML_BIND_PORT', flag: 'ml-bindport', components: ['speaker'] },
];

/** MetalLB's default health probe port, where its manifests' probes look. */
export const METALLB_HEALTH_PROBE_PORT = 17472;

/**
 * The component a MetalLB manifest runs, when the arguments name none. MetalLB's images
 * choose it by their entrypoint (/speaker, /controller) and its manifests and chart
 * pass only flags (`--port=7472 --log-level=info`), so ferrolb's one image, put in their
 * place, reads it from the environment they set: the speaker's always has
 * METALLB_NODE_NAME (spec.nodeName), the controller's never, and has METALLB_POD_NAME,
 * METALLB_ML_SECRET_NAME or METALLB_DEPLOYMENT. Undefined when the first argument is a
 * command, or nothing says which.
 */
export function impliedComponent(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Component | undefined {
  const first = argv[0];
  if (first !== undefined && !first.startsWith('-')) return undefined;
  if (first === '--help' || first === '-h' || first === '--version') return undefined;
  if (env['METALLB_NODE_NAME']) return 'speaker';
  if (env['METALLB_POD_NAME'] || env['METALLB_ML_SECRET_NAME'] || env['METALLB_DEPLOYMENT']) return 'controller';
  return undefined;
}

export interface Translation {
  /** The arguments for ferrolb's parser: ferrolb's own unchanged, MetalLB's translated. */
  readonly args: string[];
  /** One per MetalLB flag that means nothing here. */
  readonly warnings: string[];
}

/**
 * `ferrolbOptions`: the command's own option names, which pass through unchanged (a
 * ferrolb name that MetalLB also uses, like --namespace, is ferrolb's).
 */
export function translateMetalLBFlags(
  component: Component,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  ferrolbOptions: readonly string[],
): Translation {
  const out: string[] = [];
  const warnings: string[] = [];
  const given = new Set<string>();
  let metricsPort: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--?([a-z0-9][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    const name = m?.[1];
    const known = name !== undefined ? FLAGS[name] : undefined;
    const flag = known && (known.shared || !ferrolbOptions.includes(name!)) ? known : undefined;
    if (!m || !flag || !flag.components.includes(component)) {
      // ferrolb's own (or unknown, which ferrolb's parser reports): Go's single dash too.
      out.push(m && arg.startsWith('-') && !arg.startsWith('--') && name !== undefined && ferrolbOptions.includes(name) ? `-${arg}` : arg);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      if (flag.bool) value = 'true';
      else {
        value = args[++i];
        if (value === undefined) {
          warnings.push(`--${name} needs a value: ignored`);
          continue;
        }
      }
    }
    given.add(name!);
    if (name === 'port') metricsPort = value;
    const t = flag.translate(value);
    if (t.warning !== undefined) warnings.push(t.warning);
    out.push(...(t.args ?? []));
  }
  for (const e of ENV) {
    const value = env[e.variable];
    if (!e.components.includes(component) || value === undefined || value === '' || given.has(e.flag)) continue;
    const translated = FLAGS[e.flag]!.translate(value).args ?? [];
    const ferrolbName = translated[0]?.slice(2);
    if (ferrolbName !== undefined && out.some((a) => a === `--${ferrolbName}` || a.startsWith(`--${ferrolbName}=`))) continue;
    out.push(...translated);
  }
  // MetalLB's manifests (they set METALLB_POD_NAME) rely on MetalLB's defaults without
  // passing them: health probes on port 17472, and the webhook's Service, configuration
  // and certificate Secret under MetalLB's names. MetalLB's controller is one replica
  // without leader election, and its RBAC grants no Leases: ferrolb's election is off.
  if (env['METALLB_POD_NAME']) {
    const defaults: [string, string][] = [
      ['health-addr', `0.0.0.0:${METALLB_HEALTH_PROBE_PORT}`],
      ...(component === 'controller'
        ? ([
            ['cert-service-name', 'metallb-webhook-service'],
            ['webhook-configuration-name', 'metallb-webhook-configuration'],
            ['cert-secret-name', 'metallb-webhook-cert'],
            ['leader-elect', 'false'],
          ] as [string, string][])
        : []),
    ];
    for (const [option, value] of defaults) {
      if (!out.some((a) => a === `--${option}` || a.startsWith(`--${option}=`))) out.push(`--${option}`, value);
    }
    // MetalLB v0.16 serves --port over HTTPS only (self-signed unless --metrics-cert-dir,
    // every scrape's token reviewed), its manifests on 9120 and its chart with
    // --health-probe-port (a flag v0.16 added, its probes' port); before v0.16 --port was
    // plain HTTP (7472) and its probes read /metrics there. So: HTTPS for a v0.16 manifest.
    const v016 = metricsPort !== undefined && metricsPort !== '0' && (metricsPort === '9120' || given.has('health-probe-port'));
    if (v016 && !out.includes('--metrics-secure') && !out.some((a) => a === '--metrics-cert-dir' || a.startsWith('--metrics-cert-dir='))) {
      out.push('--metrics-secure');
    }
  }
  return { args: out, warnings };
}
