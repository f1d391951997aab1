// The Deployment controller (process mode only), without ReplicaSets: `kubectl expose
// deployment` needs only the Deployment's selector. Pods are named
// `NAME-<template hash>-<5 chars>` and created already bound (the scheduler's choice); a
// changed template replaces every pod at once (the Recreate strategy: the lab has no
// rollout to stage, and tests want the new pods quickly).
import { createHash, randomInt } from 'node:crypto';
import { isStatus, type Kube } from '../kube.ts';
import { isReady, ns, ownerUid, podPath, type Deployment, type Pod, type PodTemplate } from './api.ts';
import type { Cache } from './cache.ts';
import { log, type Attempt } from './log.ts';
import type { Scheduler } from './scheduler.ts';

// Kubernetes' "safe encode" alphabet: no vowels, so generated names spell no words.
const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}
function templateHash(t: PodTemplate): string {
  const digest = createHash('sha256').update(JSON.stringify(t)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += alphabet[digest[i]! % alphabet.length];
  return s;
}

/** Deletes a pod, recording the answer in the cache so the next tick does not count it. */
export async function deletePod(kube: Kube, cache: Cache<Pod>, p: Pod): Promise<void> {
  try {
    // A pod bound to a node is deleted gracefully: the answer is the pod, now with a
    // deletionTimestamp.
    const gone = (await kube.delete(podPath(p))) as Pod;
    if (gone?.metadata?.deletionTimestamp) cache.upsert(gone);
    else cache.forget(p);
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}

/** The Deployment's status after this tick's actions (the API server rejects more ready than total). */
function deploymentStatus(d: Deployment, kept: Pod[], want: number, creating: number): Record<string, unknown> {
  const total = kept.length + creating;
  const ready = kept.filter(isReady).length;
  const available = ready >= want;
  return {
    observedGeneration: d.metadata.generation,
    replicas: total,
    updatedReplicas: total,
    readyReplicas: ready,
    availableReplicas: ready,
    unavailableReplicas: Math.max(0, want - ready),
    conditions: [{
      type: 'Available',
      status: available ? 'True' : 'False',
      reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
    }],
  };
}

/** The parts of a status the agent writes (conditions carry timestamps it does not). */
function written(o: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o?.[k] !== undefined) out[k] = o[k];
  const conds = out['conditions'];
  if (Array.isArray(conds)) {
    out['conditions'] = conds.map((c: Record<string, unknown>) => ({ type: c['type'], status: c['status'], reason: c['reason'], message: c['message'] }));
  }
  return out;
}

export class DeploymentController {
  readonly #kube: Kube;
  readonly #deployments: Cache<Deployment>;
  readonly #pods: Cache<Pod>;
  readonly #scheduler: Scheduler;
  readonly #attempt: Attempt;

  constructor(kube: Kube, deployments: Cache<Deployment>, pods: Cache<Pod>, scheduler: Scheduler, attempt: Attempt) {
    this.#kube = kube;
    this.#deployments = deployments;
    this.#pods = pods;
    this.#scheduler = scheduler;
    this.#attempt = attempt;
  }

  /** Reconciles each Deployment; the pods it creates are appended to `pods`. */
  async reconcile(deployments: Deployment[], pods: Pod[]): Promise<void> {
    for (const d of deployments) {
      if (d.metadata.deletionTimestamp) continue;
      await this.#attempt(`deployment ${ns(d)}/${d.metadata.name}`, () => this.#reconcileOne(d, pods));
    }
  }

  async #reconcileOne(d: Deployment, pods: Pod[]): Promise<void> {
    const hash = templateHash(d.spec.template);
    const owned = pods.filter((p) => ownerUid(p, 'Deployment') === d.metadata.uid && !p.metadata.deletionTimestamp);
    const current = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    const old = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
    const want = d.spec.replicas ?? 1;
    for (const p of old) await deletePod(this.#kube, this.#pods, p);
    for (let i = current.length; i < want; i++) {
      const pod = await this.#kube.create<Pod>(`/api/v1/namespaces/${ns(d)}/pods`, this.#podFor(d, hash, pods));
      pods.push(pod);
      this.#pods.upsert(pod);
      log(`deployment ${ns(d)}/${d.metadata.name}: created pod ${pod.metadata.name} on ${pod.spec.nodeName}`);
    }
    // Scale down not-ready pods first, as the ReplicaSet controller does.
    const surplus = [...current].sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, Math.max(0, current.length - want));
    for (const p of surplus) await deletePod(this.#kube, this.#pods, p);

    const kept = current.filter((p) => !surplus.includes(p));
    const status = deploymentStatus(d, kept, want, Math.max(0, want - current.length));
    if (JSON.stringify(written(d.status, Object.keys(status))) !== JSON.stringify(status)) {
      this.#deployments.upsert(await this.#kube.mergePatch<Deployment>(`/apis/apps/v1/namespaces/${ns(d)}/deployments/${d.metadata.name}/status`, { status }));
    }
  }

  #podFor(d: Deployment, hash: string, pods: Pod[]): Pod {
    const labels = { ...d.spec.template.metadata?.labels, 'pod-template-hash': hash };
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${d.metadata.name}-${hash}-${randomSuffix(5)}`,
        namespace: ns(d),
        labels,
        ...(d.spec.template.metadata?.annotations ? { annotations: d.spec.template.metadata.annotations } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid ?? '', controller: true }],
      },
      spec: { ...d.spec.template.spec, nodeName: this.#scheduler.leastLoadedNode(pods).name },
    };
  }
}
