// The scheduler (process mode only): binds each pod without a node to the played node
// with the fewest pods, the lowest index on ties. The Deployment controller asks it too,
// for the pods it creates already bound.
import type { Kube } from '../kube.ts';
import type { Host } from '../layout.ts';
import { ns, type Pod } from './api.ts';
import type { Attempt } from './log.ts';

export class Scheduler {
  readonly #kube: Kube;
  readonly #nodes: readonly Host[];
  readonly #attempt: Attempt;

  constructor(kube: Kube, nodes: readonly Host[], attempt: Attempt) {
    this.#kube = kube;
    this.#nodes = nodes;
    this.#attempt = attempt;
  }

  leastLoadedNode(pods: Pod[]): Host {
    const load = new Map(this.#nodes.map((n) => [n.name, 0]));
    for (const p of pods) {
      const n = p.spec.nodeName;
      if (n && load.has(n) && !p.metadata.deletionTimestamp) load.set(n, load.get(n)! + 1);
    }
    let best = this.#nodes[0]!;
    for (const n of this.#nodes) if (load.get(n.name)! < load.get(best.name)!) best = n;
    return best;
  }

  async schedule(pods: Pod[]): Promise<void> {
    if (this.#nodes.length === 0) return;
    for (const p of pods) {
      if (p.spec.nodeName || p.metadata.deletionTimestamp) continue;
      const node = this.leastLoadedNode(pods);
      await this.#attempt(`schedule ${ns(p)}/${p.metadata.name}`, async () => {
        await this.#kube.create(`/api/v1/namespaces/${ns(p)}/pods/${p.metadata.name}/binding`, {
          apiVersion: 'v1', kind: 'Binding', metadata: { name: p.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: node.name },
        });
        p.spec.nodeName = node.name;
      });
    }
  }
}
