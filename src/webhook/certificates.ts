// The webhook's certificate, managed by the controller itself as MetalLB's does, so
// `kubectl apply -f deploy/webhook/` works without cert-manager: a CA and a serving
// certificate kept in Secret ferrolb-webhook-cert (the API server holds the state; every
// replica reads the same one), renewed before they expire, and the CA written into the
// ValidatingWebhookConfiguration's caBundle so the API server trusts the webhook.
//
// Replicas race safely: creates and updates carry resourceVersion, and the loser of a
// conflict re-reads and uses what the winner stored.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { apiFailure, type KubeClient } from '../k8s/client.ts';
import { logFields } from '../observability/errors.ts';
import { readSecret, setConversionCABundle, setWebhookCABundle, writeSecret, type SecretObject } from '../k8s/operations.ts';
import { backoffDelay } from '../time/backoff.ts';
import { type Clock, type Timer } from '../time/clock.ts';
import type { Logger } from '../observability/logging.ts';
import { createCA, issueServingCert } from './x509.ts';

export const CERT_SECRET = 'ferrolb-webhook-cert';
export const CA_NAME = 'ferrolb-webhook-ca';
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
/** Renew when less than this is left. */
const RENEW_BEFORE_MS = 30 * 86_400_000;
const CHECK_EVERY_MS = 10_000;

export interface CertificateSet {
  readonly caCert: string;
  readonly caKey: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
}

/** Why the stored set must be replaced, or undefined when it is good. Pure. */
export function renewalReason(set: CertificateSet | undefined, hosts: readonly string[], now: number): string | undefined {
  if (!set) return 'no certificate yet';
  let ca: X509Certificate, tls: X509Certificate;
  try {
    ca = new X509Certificate(set.caCert);
    tls = new X509Certificate(set.tlsCert);
  } catch (err) {
    return `the stored certificate does not parse: ${(err as Error).message}`;
  }
  if (Date.parse(ca.validTo) - now < RENEW_BEFORE_MS) return `the CA expires ${ca.validTo}`;
  if (Date.parse(tls.validTo) - now < RENEW_BEFORE_MS) return `the serving certificate expires ${tls.validTo}`;
  if (!tls.verify(ca.publicKey)) return 'the serving certificate is not signed by the stored CA';
  const missing = hosts.filter((h) => (isIP(h) !== 0 ? !tls.checkIP(h) : !tls.checkHost(h)));
  if (missing.length > 0) return `the serving certificate does not name ${missing.join(', ')}`;
  return undefined;
}

/** A new set: a new CA unless the stored one still has a year left. */
export function renewedSet(previous: CertificateSet | undefined, hosts: readonly string[], now: Date): CertificateSet {
  let ca = previous ? { certPem: previous.caCert, keyPem: previous.caKey } : undefined;
  try {
    if (ca && Date.parse(new X509Certificate(ca.certPem).validTo) - now.getTime() < (SERVING_DAYS + 31) * 86_400_000) ca = undefined;
  } catch {
    ca = undefined;
  }
  ca ??= createCA(CA_NAME, { now, days: CA_DAYS });
  const tls = issueServingCert({ ...ca, commonName: CA_NAME }, hosts, { now, days: SERVING_DAYS });
  return { caCert: ca.certPem, caKey: ca.keyPem, tlsCert: tls.certPem, tlsKey: tls.keyPem };
}

export interface WebhookCertificatesOptions {
  readonly namespace: string;
  /** DNS names and IPs the serving certificate names (the Service's DNS names first). */
  readonly hosts: readonly string[];
  /** The ValidatingWebhookConfiguration whose caBundle is kept current. */
  readonly webhookConfiguration: string;
  /** The Secret holding the certificate (default ferrolb-webhook-cert; MetalLB's manifests: metallb-webhook-cert). */
  readonly secretName?: string;
  readonly clock: Clock;
  readonly log: Logger;
}

const KEYS = { caCert: 'ca.crt', caKey: 'ca.key', tlsCert: 'tls.crt', tlsKey: 'tls.key' } as const;

export class WebhookCertificates {
  readonly #client: KubeClient;
  readonly #opts: WebhookCertificatesOptions;
  #current: CertificateSet | undefined;
  #timer: Timer | undefined;
  #stopped = false;
  #conversionWarned = false;

  constructor(client: KubeClient, opts: WebhookCertificatesOptions) {
    this.#client = client;
    this.#opts = opts;
  }

  /** The serving certificate and key in force (after start() resolved). */
  get current(): CertificateSet | undefined {
    return this.#current;
  }

  /**
   * Loads or creates the certificate (retrying with backoff while the API server
   * refuses or is unreachable), then keeps it and the caBundle current. Rejects only
   * when stopped first.
   */
  async start(): Promise<void> {
    for (let failures = 0; ; failures++) {
      if (this.#stopped) throw new Error('stopped before a certificate was loaded');
      try {
        await this.#check();
        break;
      } catch (err) {
        const delay = backoffDelay(failures);
        this.#opts.log.warn({ ...logFields(apiFailure(err)), retryInMs: delay }, 'webhook certificate not loaded; will retry');
        await new Promise<void>((resolve) => {
          this.#timer = this.#opts.clock.setTimeout(resolve, delay);
        });
      }
    }
    const loop = () => {
      if (this.#stopped) return;
      this.#timer = this.#opts.clock.setTimeout(() => {
        this.#check().catch((err: unknown) => this.#opts.log.warn(logFields(apiFailure(err)), 'webhook certificate check failed; will retry')).finally(loop);
      }, CHECK_EVERY_MS);
    };
    loop();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  async #check(): Promise<void> {
    this.#current = await this.#ensureSecret();
    await this.#injectCABundle(this.#current.caCert);
    await this.#injectConversionCABundle(this.#current.caCert);
  }

  /**
   * MetalLB's CRDs (not ferrolb's) convert BGPPeers through this webhook's /convert: a
   * CRD whose conversion webhook is a Service of our namespace gets our CA too, as
   * MetalLB's controller does it. Without the CRD, with strategy None, or without the
   * RBAC to update CRDs (ferrolb's own manifests grant none), nothing is done.
   */
  async #injectConversionCABundle(caCert: string): Promise<void> {
    const result = await setConversionCABundle(this.#client, 'bgppeers.metallb.io', this.#opts.namespace, caCert);
    if (result === 'updated') this.#opts.log.info({ crd: 'bgppeers.metallb.io' }, 'conversion webhook caBundle updated');
    if (result !== 'forbidden') return;
    if (!this.#conversionWarned) this.#opts.log.warn({ crd: 'bgppeers.metallb.io' }, 'cannot update the CRD conversion caBundle (no RBAC): BGPPeer conversion calls will fail TLS');
    this.#conversionWarned = true;
  }

  get #secret(): string {
    return this.#opts.secretName ?? CERT_SECRET;
  }

  async #ensureSecret(): Promise<CertificateSet> {
    const name = this.#secret;
    for (let attempt = 0; attempt < 5; attempt++) {
      const secret = await readSecret(this.#client, this.#opts.namespace, name);
      const stored = secret ? decode(secret) : undefined;
      const now = this.#opts.clock.now();
      const why = renewalReason(stored, this.#opts.hosts, now);
      if (!why) return stored!;
      const next = renewedSet(stored, this.#opts.hosts, new Date(now));
      const data = Object.fromEntries(Object.entries(KEYS).map(([field, key]) => [key, Buffer.from(next[field as keyof CertificateSet]).toString('base64')]));
      // A replaced Secret keeps its type: MetalLB's manifests create this one Opaque.
      if (await writeSecret(this.#client, this.#opts.namespace, name, { type: 'kubernetes.io/tls', data }, secret)) {
        this.#opts.log.info({ secret: name, why }, 'webhook certificate issued');
        return next;
      }
      // Another replica wrote first: use what it stored.
    }
    throw new Error(`Secret ${name} kept changing under us`);
  }

  async #injectCABundle(caCert: string): Promise<void> {
    if ((await setWebhookCABundle(this.#client, this.#opts.webhookConfiguration, caCert)) === 'updated') {
      this.#opts.log.info({ configuration: this.#opts.webhookConfiguration }, 'webhook caBundle updated');
    }
  }
}

function decode(secret: SecretObject): CertificateSet | undefined {
  const d = secret.data ?? {};
  const get = (k: string) => (d[k] !== undefined ? Buffer.from(d[k]!, 'base64').toString('utf8') : undefined);
  const set = { caCert: get(KEYS.caCert), caKey: get(KEYS.caKey), tlsCert: get(KEYS.tlsCert), tlsKey: get(KEYS.tlsKey) };
  return set.caCert && set.caKey && set.tlsCert && set.tlsKey ? (set as CertificateSet) : undefined;
}
