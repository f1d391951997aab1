// The garbage collector's part (process mode only), for what the agent owns: the pods of
// a deleted Deployment go with it. (EndpointSlices of a deleted Service are removed by
// the EndpointSlice controller, which no longer wants them.)
import type { Kube } from '../kube.ts';
import { ns, ownerUid, type Deployment, type Pod } from './api.ts';
import type { Cache } from './cache.ts';
import { deletePod } from './deployments.ts';
import type { Attempt } from './log.ts';

export class GarbageCollector {
  readonly #kube: Kube;
  readonly #pods: Cache<Pod>;
  readonly #attempt: Attempt;

  constructor(kube: Kube, pods: Cache<Pod>, attempt: Attempt) {
    this.#kube = kube;
    this.#pods = pods;
    this.#attempt = attempt;
  }

  /** Deletes the pods whose owning Deployment is not in `deployments`. */
  async collect(deployments: Deployment[], pods: Pod[]): Promise<void> {
    const live = new Set(deployments.map((d) => d.metadata.uid));
    for (const p of pods) {
      const owner = ownerUid(p, 'Deployment');
      if (owner && !live.has(owner) && !p.metadata.deletionTimestamp) {
        await this.#attempt(`collect ${ns(p)}/${p.metadata.name}`, () => deletePod(this.#kube, this.#pods, p));
      }
    }
  }
}
