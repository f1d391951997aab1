// The election's Lease (coordination.k8s.io/v1) on the API server. Writes are PUTs that
// carry the resourceVersion read, so a concurrent writer gets 409 Conflict.
import { isStatus, type KubeClient } from './client.ts';
import type { LeaseRecord, LeaseStore, StoredLease } from './leader-election.ts';

interface V1Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

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

  get #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.#namespace}/leases`;
  }

  async get(): Promise<StoredLease | undefined> {
    try {
      const l = await this.#client.get<V1Lease>(`${this.#path}/${this.#name}`);
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
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  #body(record: LeaseRecord, resourceVersion?: string): V1Lease {
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

  async create(record: LeaseRecord): Promise<boolean> {
    try {
      await this.#client.create(this.#path, this.#body(record));
      return true;
    } catch (err) {
      if (isStatus(err, 409)) return false;
      throw err;
    }
  }

  async update(record: LeaseRecord, resourceVersion: string): Promise<boolean> {
    try {
      await this.#client.replace(`${this.#path}/${this.#name}`, this.#body(record, resourceVersion));
      return true;
    } catch (err) {
      if (isStatus(err, 409)) return false;
      throw err;
    }
  }
}
