// The namespace controller's cleanup (process mode only). A deleted namespace stays
// Terminating until everything in it is gone and its `kubernetes` finalizer is removed;
// without this, tests that isolate themselves in namespaces could not clean up.
import { isStatus, type Kube } from '../kube.ts';
import { ns, type Namespace, type Pod } from './api.ts';
import { log, type Attempt } from './log.ts';

interface ResourceList { groupVersion: string; resources: { name: string; namespaced: boolean; verbs: string[] }[] }

export class NamespaceController {
  readonly #kube: Kube;
  readonly #attempt: Attempt;
  #namespacedResources?: string[];

  constructor(kube: Kube, attempt: Attempt) {
    this.#kube = kube;
    this.#attempt = attempt;
  }

  async finalize(namespaces: Namespace[], pods: Pod[]): Promise<void> {
    for (const n of namespaces) {
      if (!n.metadata.deletionTimestamp || !(n.spec?.finalizers ?? []).includes('kubernetes')) continue;
      await this.#attempt(`namespace ${n.metadata.name}`, () => this.#finalizeOne(n, pods));
    }
  }

  // Like the namespace controller: delete every kind, and finalize only once all
  // deletions went through (a failure is retried next tick).
  async #finalizeOne(n: Namespace, pods: Pod[]): Promise<void> {
    const name = n.metadata.name;
    for (const path of await this.#resources()) {
      try {
        await this.#kube.delete(path.replace('{ns}', name));
      } catch (err) {
        if (!isStatus(err, 404) && !isStatus(err, 405)) throw err;
      }
    }
    // Pods leave only after their kubelet (this agent) has stopped them.
    if (pods.some((p) => ns(p) === name)) return;
    await this.#kube.replace(`/api/v1/namespaces/${name}/finalize`, { ...n, spec: { finalizers: [] } });
    log(`namespace ${name}: finalized`);
  }

  /** The collection path of every namespaced kind that can be deleted as a collection. */
  async #resources(): Promise<string[]> {
    if (this.#namespacedResources) return this.#namespacedResources;
    const versions: string[] = ['/api/v1'];
    const groups = await this.#kube.get<{ groups: { preferredVersion: { groupVersion: string } }[] }>('/apis');
    for (const g of groups.groups) versions.push(`/apis/${g.preferredVersion.groupVersion}`);
    const out: string[] = [];
    for (const v of versions) {
      const list = await this.#kube.get<ResourceList>(v);
      for (const r of list.resources) {
        if (r.name.includes('/') || !r.namespaced || !r.verbs.includes('deletecollection')) continue;
        out.push(`${v}/namespaces/{ns}/${r.name}`);
      }
    }
    // Custom resources registered later are missed until the agent restarts; the lab's
    // namespaces are short-lived, so a stale list costs a leftover at worst.
    this.#namespacedResources = out;
    return out;
  }
}
