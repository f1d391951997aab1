// The kubelet's Node: the object `lab up` registers for each played node, and the
// status the agent refreshes every 10 s (its heartbeat).
import type { Kube, KubeObject } from '../kube.ts';
import { podRange, type Host } from '../layout.ts';

const arch = process.arch === 'x64' ? 'amd64' : process.arch;

export function nodeStatus(node: Host, now: string): Record<string, unknown> {
  const cond = (type: string, status: string, reason: string) => ({ type, status, reason, lastHeartbeatTime: now, lastTransitionTime: now, message: '' });
  return {
    addresses: [
      { type: 'InternalIP', address: node.v4 },
      { type: 'InternalIP', address: node.v6 },
      { type: 'Hostname', address: node.name },
    ],
    capacity: { cpu: '2', memory: '8Gi', pods: '61' },
    allocatable: { cpu: '2', memory: '8Gi', pods: '61' },
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: 'ferrolb lab', containerRuntimeVersion: 'lab://1',
      kubeletVersion: 'v1.37.2', kubeProxyVersion: '', operatingSystem: 'linux', architecture: arch,
    },
    conditions: [
      cond('Ready', 'True', 'KubeletReady'),
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      cond('NetworkUnavailable', 'False', 'RouteCreated'),
    ],
  };
}

export function nodeObject(node: Host): KubeObject & Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': arch,
      },
    },
    spec: { podCIDR: podRange(node.index).cidr, podCIDRs: [podRange(node.index).cidr] },
  };
}

/** Writes every played node's status when the last write is 10 s old. */
export class Heartbeat {
  readonly #kube: Kube;
  readonly #nodes: readonly Host[];
  #last = 0;

  constructor(kube: Kube, nodes: readonly Host[]) {
    this.#kube = kube;
    this.#nodes = nodes;
  }

  async beatIfDue(): Promise<void> {
    if (Date.now() - this.#last <= 10_000) return;
    const now = new Date().toISOString();
    for (const node of this.#nodes) {
      await this.#kube.mergePatch(`/api/v1/nodes/${node.name}/status`, { status: nodeStatus(node, now) });
    }
    this.#last = Date.now();
  }
}
