// The election's Lease (coordination.k8s.io/v1) on the API server. Writes are PUTs that
// carry the resourceVersion read, so a concurrent writer gets 409 Conflict.
import type { KubeClient } from './client.ts';
import { createLease, getLease, replaceLease, type LeaseObject } from './operations.ts';
import type { LeaseRecord, LeaseStore, StoredLease } from './leader-election.ts';

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class ApiLeaseStore implements LeaseStore {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;

  constructor(client: KubeClient, namespace: string, name: string) {
    this.#client = client;
    this.#namespace = namespace;
    this.#name = name;
  }

  async get(): Promise<StoredLease | undefined> {
    const l = await getLease(this.#client, this.#namespace, this.#name);
    if (!l) return undefined;
    const s = l.spec ?? {};
    return {
      resourceVersion: l.metadata.resourceVersion ?? '',
      record: {
        holderIdentity: s.holderIdentity ?? '',
        leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
        acquireTime: s.acquireTime ? Date.parse(s.acquireTime) : 0,
        renewTime: s.renewTime ? Date.parse(s.renewTime) : 0,
        leaseTransitions: s.leaseTransitions ?? 0,
      },
    };
  }

  #body(record: LeaseRecord, resourceVersion?: string): LeaseObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#name, namespace: this.#namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: microTime(record.acquireTime),
        renewTime: microTime(record.renewTime),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }

  create(record: LeaseRecord): Promise<boolean> {
    return createLease(this.#client, this.#body(record));
  }

  update(record: LeaseRecord, resourceVersion: string): Promise<boolean> {
    return replaceLease(this.#client, this.#body(record, resourceVersion));
  }
}
