// ServiceL2Status and ServiceBGPStatus objects (metallb.io/v1beta1, MetalLB's
// per-service announcement status): one per service this node announces, in the
// speaker's namespace, saying which node announces it and how (the interfaces that
// answer ARP/NDP; the BGP peers that carry the route), so
// `kubectl get servicel2status,servicebgpstatus -n metallb-system` shows where each
// service's traffic enters. Each speaker owns only the objects of its kind labelled with
// its node, and converges them to what it announces.
//
// Best effort, after the fact: announcing never waits for these writes, and while the
// API server is unreachable they are retried with backoff.
import { createHash } from 'node:crypto';
import type { KubeClient } from '../k8s/client.ts';
import { apiFailure } from '../k8s/client.ts';
import { createStatusObject, deleteStatusObject, listStatusObjects, patchObjectStatus } from '../k8s/operations.ts';
import { logFields } from '../observability/errors.ts';
import { backoffDelay } from '../time/backoff.ts';
import { type Clock, type Timer } from '../time/clock.ts';
import type { Logger } from '../observability/logging.ts';

export const NODE_LABEL = 'metallb.io/node';
/** On ServiceL2Status / ServiceBGPStatus objects (MetalLB's labels): which Service, which node. */
export const STATUS_SERVICE_NAME_LABEL = 'metallb.io/service-name';
export const SERVICE_NAMESPACE_LABEL = 'metallb.io/service-namespace';

export interface StatusEntry {
  readonly service: string; // namespace/name
  /** Fields of the status beside node and service: `interfaces` (L2) or `peers` (BGP). */
  readonly detail: Readonly<Record<string, unknown>>;
}

export type StatusKind = 'ServiceL2Status' | 'ServiceBGPStatus';

/** The prefix of each kind's object names. */
const PREFIX: Record<StatusKind, string> = { ServiceL2Status: 'l2', ServiceBGPStatus: 'bgp' };


/** A name that is the same on every restart, so a restarted speaker finds its objects. */
export function statusName(kind: StatusKind, node: string, service: string): string {
  return `${PREFIX[kind]}-${createHash('sha256').update(`${node}\n${service}`).digest('hex').slice(0, 16)}`;
}

export class ServiceStatusWriter {
  readonly #kind: StatusKind;
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #node: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  #desired = new Map<string, StatusEntry>();
  /** Service -> object name, for the services last set: a plan runs on every change, and rehashing every name each time was garbage. */
  #names = new Map<string, string>();
  /** What the API server holds, by object name: the serialised status. */
  #written: Map<string, string> | undefined;
  #running = false;
  #again = false;
  #retry: Timer | undefined;
  #failures = 0;
  #stopped = false;

  readonly #nodeUID: () => string | undefined;

  /**
   * `nodeUID`: the uid of this node's Node object, when known. Objects are created
   * owned by the Node, so Kubernetes' garbage collector deletes them when the Node is
   * deleted: a node gone for good, whose speaker can no longer remove them, leaves no
   * stale status behind.
   */
  constructor(kind: StatusKind, client: KubeClient, namespace: string, node: string, clock: Clock, log: Logger, nodeUID: () => string | undefined = () => undefined) {
    this.#nodeUID = nodeUID;
    this.#kind = kind;
    this.#client = client;
    this.#namespace = namespace;
    this.#node = node;
    this.#clock = clock;
    this.#log = log;
  }

  set(entries: readonly StatusEntry[]): void {
    const names = new Map<string, string>();
    this.#desired = new Map(
      entries.map((e) => {
        const name = this.#names.get(e.service) ?? statusName(this.#kind, this.#node, e.service);
        names.set(e.service, name);
        return [name, e];
      }),
    );
    this.#names = names;
    void this.#sync();
  }

  stop(): void {
    this.#stopped = true;
    this.#retry?.cancel();
  }

  /** True when the API server holds exactly what was last set (as far as we know). */
  get settled(): boolean {
    const written = this.#written;
    if (this.#running || !written || written.size !== this.#desired.size) return false;
    return [...this.#desired.keys()].every((name) => written.has(name));
  }

  async #sync(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        await this.#converge();
      } while (this.#again && !this.#stopped);
      this.#failures = 0;
    } catch (err) {
      this.#written = undefined; // re-read: a write may have half-happened
      const delay = backoffDelay(this.#failures++);
      this.#log.warn({ ...logFields(apiFailure(err)), retryInMs: delay }, `${this.#kind} not written; will retry`);
      this.#retry?.cancel();
      this.#retry = this.#clock.setTimeout(() => void this.#sync(), delay);
    } finally {
      this.#running = false;
    }
  }

  /**
   * One pass: the writes that make the API server hold what was last set, deletions
   * first (an object naming this node for a service it no longer announces misleads
   * whoever reads it), at most WRITES_IN_FLIGHT at a time. A pass stops launching writes
   * when a new set arrives, so the next one starts with that set's deletions instead of
   * finishing creations the new set may not want; what was written is kept.
   */
  async #converge(): Promise<void> {
    if (this.#stopped) return;
    if (!this.#written) {
      const items = await listStatusObjects<{ metadata?: { name?: string }; status?: unknown }>(this.#client, this.#kind, this.#namespace, `${NODE_LABEL}=${this.#node}`);
      this.#written = new Map(items.map((o) => [o.metadata?.name ?? '', JSON.stringify(o.status ?? {})]));
    }
    const written = this.#written;
    const writes: (() => Promise<void>)[] = [];
    for (const name of written.keys()) {
      if (this.#desired.has(name)) continue;
      writes.push(async () => {
        await deleteStatusObject(this.#client, this.#kind, this.#namespace, name);
        written.delete(name);
      });
    }
    for (const [name, entry] of this.#desired) {
      const [namespace, service] = entry.service.split('/') as [string, string];
      const status = { node: this.#node, serviceName: service, serviceNamespace: namespace, ...entry.detail };
      const text = JSON.stringify(status);
      if (written.get(name) === text) continue;
      writes.push(async () => {
        if (!written.has(name)) {
          const uid = this.#nodeUID();
          await createStatusObject(this.#client, this.#kind, this.#namespace, {
            name,
            labels: { [NODE_LABEL]: this.#node, [STATUS_SERVICE_NAME_LABEL]: service, [SERVICE_NAMESPACE_LABEL]: namespace },
            ...(uid !== undefined ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.#node, uid }] } : {}),
          });
        }
        // The status subresource ignores status on create: it is written separately.
        await patchObjectStatus(this.#client, this.#kind, this.#namespace, name, status);
        written.set(name, text);
      });
    }
    await runBounded(writes, WRITES_IN_FLIGHT, () => this.#again || this.#stopped);
  }
}

/**
 * Status writes in flight per writer: with thousands of services a serial pass was
 * minutes behind the announcements (7,880 ServiceL2Status objects for 5,000 services
 * at 10,000, docs/BENCHMARKS.md "Footprint"); a few at a time keep the API server's
 * load per speaker small.
 */
export const WRITES_IN_FLIGHT = 4;

/**
 * Runs `tasks` in order, at most `limit` at once, launching no more once `stop()` says
 * so; resolves when every launched task has settled, rejecting with the first failure
 * (after which no more are launched either).
 */
async function runBounded(tasks: readonly (() => Promise<void>)[], limit: number, stop: () => boolean): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failure === undefined && !stop()) {
      const task = tasks[next++]!;
      try {
        await task();
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.error;
}
