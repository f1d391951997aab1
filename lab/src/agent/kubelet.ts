// The kubelet of the played nodes: it runs the pods bound to them (pod-runtime.ts),
// stops those that go, confirms graceful deletions, and reports each pod's status as it
// observes it. With real nodes this is all the agent does.
import { isStatus, type Kube } from '../kube.ts';
import type { Host } from '../layout.ts';
import { ns, podPath, type Pod } from './api.ts';
import type { Cache } from './cache.ts';
import { log, type Attempt } from './log.ts';
import { PodRuntimes, type PodRuntime } from './pod-runtime.ts';

/** What the kubelet writes for a pod, and a key that changes when that status does. */
function podStatus(p: Pod, rt: PodRuntime): { ready: boolean; key: string; status: Record<string, unknown> } {
  const ready = rt.listening && !rt.exited;
  const state = rt.exited
    ? { terminated: { exitCode: rt.exited.code ?? 137, reason: rt.exited.code === 0 ? 'Completed' : 'Error', startedAt: rt.startedAt, finishedAt: rt.exited.at } }
    : ready ? { running: { startedAt: rt.startedAt } } : { waiting: { reason: 'ContainerCreating' } };
  const now = new Date().toISOString();
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
  const status = {
    // A stopped server is not restarted (the lab's pods have no restart policy to
    // speak of), so the pod stays Running but not Ready, as a pod whose readiness
    // probe fails does: that is the state a load balancer must react to.
    phase: ready || rt.exited ? 'Running' : 'Pending',
    hostIP: rt.node.v4,
    hostIPs: [{ ip: rt.node.v4 }],
    podIP: rt.ip,
    podIPs: [{ ip: rt.ip }],
    startTime: rt.startedAt,
    conditions: [cond('PodScheduled', true), cond('Initialized', true), cond('ContainersReady', ready), cond('Ready', ready)],
    containerStatuses: (p.spec.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      containerID: `lab://${rt.child?.pid ?? 0}`,
      ready,
      started: ready,
      restartCount: 0,
      state,
    })),
  };
  return { ready, key: JSON.stringify([ready, Object.keys(state)[0]]), status };
}

export class Kubelet {
  readonly #kube: Kube;
  readonly #nodes: readonly Host[];
  readonly #pods: Cache<Pod>;
  readonly #attempt: Attempt;
  readonly #runtimes: PodRuntimes;

  /** `changed` is called when a pod's server starts or stops listening. */
  constructor(kube: Kube, nodes: readonly Host[], pods: Cache<Pod>, attempt: Attempt, changed: () => void) {
    this.#kube = kube;
    this.#nodes = nodes;
    this.#pods = pods;
    this.#attempt = attempt;
    this.#runtimes = new PodRuntimes(changed);
  }

  /** Brings the played nodes' pods in line with `pods` (none: stops them all). */
  async run(pods: Pod[]): Promise<void> {
    const seen = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      const node = this.#nodes.find((n) => n.name === p.spec.nodeName);
      if (!node) continue;
      seen.add(uid);
      let rt = this.#runtimes.get(uid);
      if (p.metadata.deletionTimestamp) {
        await this.#finishDeletion(p, rt);
        continue;
      }
      if (!rt) {
        if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
        rt = this.#runtimes.start(p, node);
        if (!rt) continue;
      }
      await this.#attempt(`report ${ns(p)}/${p.metadata.name}`, () => this.#report(p, rt));
    }
    for (const rt of this.#runtimes.all()) if (!seen.has(rt.uid)) await this.#runtimes.stop(rt);
  }

  // Graceful deletion: the API server keeps the pod until its kubelet confirms the
  // containers are gone by deleting it with a zero grace period.
  async #finishDeletion(p: Pod, rt: PodRuntime | undefined): Promise<void> {
    if (rt) await this.#runtimes.stop(rt);
    await this.#attempt(`delete ${ns(p)}/${p.metadata.name}`, async () => {
      try {
        await this.#kube.delete(podPath(p), {
          apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid ?? '' },
        });
        this.#pods.forget(p);
      } catch (err) {
        if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
      }
    });
  }

  async #report(p: Pod, rt: PodRuntime): Promise<void> {
    const { ready, key, status } = podStatus(p, rt);
    if (rt.reported === key) return;
    try {
      this.#pods.upsert(await this.#kube.mergePatch<Pod>(`${podPath(p)}/status`, { status }));
      rt.reported = key;
      log(`pod ${rt.namespace}/${rt.name}: ready=${ready}`);
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }
}
