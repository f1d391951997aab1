// The watch layer against the lab's real kube-apiserver: events arrive, a server-closed
// watch continues, an API server restart (and the 410 that follows when etcd moved on
// meanwhile) loses no change, and RBAC denial is retried rather than fatal.
import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, labOk, eventually, freshNamespace, describeLab } from '../helpers/lab.ts';
import { compactEtcd, restartApiserver } from '../helpers/faults.ts';
import { KubeClient } from '../../src/k8s/client.ts';
import { WatchedResource, type ChangeType } from '../../src/k8s/informer.ts';
import { realClock } from '../../src/time/clock.ts';


describeLab('watched resources against the real API server', () => {
  useLab({ up: ['--nodes', '1'] });
  let admin: KubeClient;
  before(() => {
    admin = KubeClient.load(labOk(['kubeconfig', 'admin']).trim());
  });
  after(() => admin?.close());

  const configMap = (ns: string, name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

  it('sees adds, updates and deletes; a watch the server closes continues without loss', async () => {
    const ns = freshNamespace('informer');
    await admin.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'before', { v: '1' }));
    const seen: string[] = [];
    const w = new WatchedResource<{ metadata?: { name?: string }; data?: Record<string, string> }>(admin, `/api/v1/namespaces/${ns}/configmaps`, {
      clock: realClock,
      watchSeconds: 1, // the server ends each watch after ~1 s: many re-watches in this test
    });
    w.onChange((t: ChangeType, o) => seen.push(`${t} ${o.metadata?.name} ${o.data?.v ?? ''}`));
    w.start();
    await w.synced;
    assert.deepEqual(seen, ['add before 1']);
    for (let i = 0; i < 5; i++) {
      await admin.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(ns, `c${i}`, { v: '1' }));
      await new Promise((r) => setTimeout(r, 400));
    }
    await admin.mergePatch(`/api/v1/namespaces/${ns}/configmaps/c0`, { data: { v: '2' } });
    await admin.delete(`/api/v1/namespaces/${ns}/configmaps/before`);
    await eventually('every change seen', 10_000, () => (seen.includes('update c0 2') && seen.includes('delete before 1') ? true : undefined));
    assert.deepEqual(w.list().map((o) => o.metadata?.name).sort(), ['c0', 'c1', 'c2', 'c3', 'c4']);
    w.stop();
  });

  it('an API server restart loses no change: what happened while it was down is reported', async () => {
    const ns = freshNamespace('restart');
    await admin.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'stays', { v: '1' }));
    await admin.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'goes', { v: '1' }));
    const errors: string[] = [];
    const seen: string[] = [];
    const restarts: string[] = [];
    const w = new WatchedResource<{ metadata?: { name?: string } }>(admin, `/api/v1/namespaces/${ns}/configmaps`, {
      clock: realClock,
      minBackoff: 200,
      maxBackoff: 1000,
      onError: (_p, err) => errors.push(String(err)),
      onRestart: (_p, why) => restarts.push(why),
    });
    w.onChange((t, o) => seen.push(`${t} ${o.metadata?.name}`));
    w.start();
    await w.synced;
    // While the API server is down, etcd is compacted past our resourceVersion: the
    // watch that resumes from it must get 410 and list again.
    await restartApiserver(1000, async () => void (await compactEtcd()));
    const other = KubeClient.load(labOk(['kubeconfig', 'admin']).trim());
    await eventually('API server back', 60_000, async () => ((await other.get<{ gitVersion?: string }>('/version').catch(() => undefined))?.gitVersion !== undefined ? true : undefined), 500);
    await other.delete(`/api/v1/namespaces/${ns}/configmaps/goes`);
    await other.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'new', { v: '1' }));
    await eventually('changes after the restart seen', 30_000, () => (seen.includes('delete goes') && seen.includes('add new') ? true : undefined));
    assert.ok(errors.length > 0, 'the outage was noticed and retried');
    assert.ok(restarts.includes('gone') || errors.some((e) => / 410 /.test(e)), `a 410 was met and handled: ${restarts.join(',')} | ${errors.join(' | ')}`);
    assert.deepEqual(w.list().map((o) => o.metadata?.name).sort(), ['new', 'stays']);
    other.close();
    w.stop();
  });

  it('a watch the client may not read is retried, not fatal, and works once RBAC allows it', async () => {
    const ns = freshNamespace('rbac');
    const kubeconfig = labOk(['kubeconfig', 'speaker']).trim();
    const speaker = KubeClient.load(kubeconfig);
    const errors: string[] = [];
    const w = new WatchedResource<{ metadata?: { name?: string } }>(speaker, `/api/v1/namespaces/${ns}/configmaps`, {
      clock: realClock,
      minBackoff: 100,
      maxBackoff: 500,
      onError: (_p, err) => errors.push(String(err)),
    });
    w.start();
    await eventually('403 reported', 10_000, () => (errors.some((e) => / 403 /.test(e)) ? true : undefined));
    await admin.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'read-cm', namespace: ns },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
    });
    await admin.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'read-cm', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-cm' },
      subjects: [{ kind: 'ServiceAccount', name: 'speaker', namespace: 'metallb-system' }],
    });
    await w.synced;
    await admin.create(`/api/v1/namespaces/${ns}/configmaps`, configMap(ns, 'visible', {}));
    await eventually('sees objects once allowed', 10_000, () => (w.get('visible', ns) ? true : undefined));
    w.stop();
    speaker.close();
  });
});
