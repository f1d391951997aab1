// The lab's PKI: one CA signs the API server's serving certificate and every client
// certificate. Client identities are named exactly as Kubernetes names the principals
// they stand for, so the RBAC objects in deploy/ bind to them unchanged:
// a ServiceAccount token authenticates as user `system:serviceaccount:NS:NAME` in groups
// `system:serviceaccounts` and `system:serviceaccounts:NS`, and the API server maps a
// certificate's CN to the user and each O to a group.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { apiserverUrl, control, kubeconfigPath, paths, type Identity } from './layout.ts';
import { must } from './run.ts';

export interface Subject {
  cn: string;
  groups: readonly string[];
}

export const subjects: Record<Identity, Subject> = {
  admin: { cn: 'admin', groups: ['system:masters'] },
  controller: {
    cn: 'system:serviceaccount:metallb-system:controller',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:metallb-system'],
  },
  speaker: {
    cn: 'system:serviceaccount:metallb-system:speaker',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:metallb-system'],
  },
  // The bootstrap ClusterRoleBinding system:node-proxier grants kube-proxy's needs to
  // this user, the identity kubeadm gives kube-proxy.
  'kube-proxy': { cn: 'system:kube-proxy', groups: [] },
};

// EC P-256 keys: generating one takes a millisecond, an RSA key tens of them, and
// `lab up` makes seven.
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const days = ['-days', '30'];

function dn(s: Subject): string {
  // OpenSSL's -subj escapes nothing we use; names here are fixed, not user input.
  return s.groups.map((g) => `/O=${g}`).join('') + `/CN=${s.cn}`;
}

export function createPki(): void {
  mkdirSync(paths.pki, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(paths.pki, f);
  must('openssl', ['req', '-x509', '-new', ...ecKey, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-subj', '/CN=ferrolb-lab-ca', ...days]);
  // The serving certificate also names the control host's LAN address and the
  // `kubernetes` Service's cluster IP, so pods (in-cluster configuration) verify it.
  must('openssl', [
    'req', '-x509', '-new', ...ecKey, '-keyout', p('apiserver.key'), '-out', p('apiserver.crt'),
    '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-subj', '/CN=kube-apiserver', ...days,
    '-addext', `subjectAltName=IP:127.0.0.1,IP:${control.v4},IP:198.18.128.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
    '-addext', 'extendedKeyUsage=serverAuth', '-addext', 'basicConstraints=critical,CA:FALSE',
  ]);
  for (const [id, s] of Object.entries(subjects)) {
    must('openssl', [
      'req', '-x509', '-new', ...ecKey, '-keyout', p(`${id}.key`), '-out', p(`${id}.crt`),
      '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-subj', dn(s), ...days,
      '-addext', 'extendedKeyUsage=clientAuth', '-addext', 'basicConstraints=critical,CA:FALSE',
    ]);
  }
  // The API server's identity towards kubelets (kubeadm's apiserver-kubelet-client):
  // real nodes' kubelets accept any lab-CA certificate and authorize everything.
  must('openssl', [
    'req', '-x509', '-new', ...ecKey, '-keyout', p('kubelet-client.key'), '-out', p('kubelet-client.crt'),
    '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-subj', dn({ cn: 'kube-apiserver-kubelet-client', groups: ['system:masters'] }), ...days,
    '-addext', 'extendedKeyUsage=clientAuth', '-addext', 'basicConstraints=critical,CA:FALSE',
  ]);
  // The API server signs and verifies ServiceAccount tokens with this pair; nothing in
  // the lab uses such tokens, but the API server refuses to start without it.
  const sa = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(p('sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(p('sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));

  mkdirSync(paths.kubeconfigs, { recursive: true });
  for (const id of Object.keys(subjects) as Identity[]) writeKubeconfig(id);
}

function b64(file: string): string {
  return readFileSync(join(paths.pki, file)).toString('base64');
}

// Certificates are embedded, so a kubeconfig works from any namespace or copy.
// The server is 127.0.0.1 everywhere: inside node namespaces a relay forwards that
// address to the host's API server (see controlplane.ts).
function writeKubeconfig(id: Identity): void {
  writeFileSync(kubeconfigPath(id), kubeconfigYaml(id), { mode: 0o600 });
}

function kubeconfigYaml(id: string): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: ferrolb-lab
  cluster:
    server: ${apiserverUrl}
    certificate-authority-data: ${b64('ca.crt')}
users:
- name: ${id}
  user:
    client-certificate-data: ${b64(`${id}.crt`)}
    client-key-data: ${b64(`${id}.key`)}
contexts:
- name: ${id}@ferrolb-lab
  context:
    cluster: ferrolb-lab
    user: ${id}
    namespace: default
current-context: ${id}@ferrolb-lab
`;
}

/**
 * A kubelet's identity (real nodes, see realnode.ts): CN system:node:NAME in group
 * system:nodes, what the API server's Node authorizer expects of a kubelet's client
 * certificate. Returns the path of its kubeconfig.
 */
export function createNodeIdentity(nodeName: string): string {
  return createIdentity(`node-${nodeName}`, { cn: `system:node:${nodeName}`, groups: ['system:nodes'] });
}

/** An extra client identity (a certificate signed by the lab CA, and its kubeconfig). */
export function createIdentity(id: string, s: Subject): string {
  const p = (f: string) => join(paths.pki, f);
  must('openssl', [
    'req', '-x509', '-new', ...ecKey, '-keyout', p(`${id}.key`), '-out', p(`${id}.crt`),
    '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-subj', dn(s), ...days,
    '-addext', 'extendedKeyUsage=clientAuth', '-addext', 'basicConstraints=critical,CA:FALSE',
  ]);
  const file = join(paths.kubeconfigs, `${id}.yaml`);
  writeFileSync(file, kubeconfigYaml(id), { mode: 0o600 });
  return file;
}

export function tlsMaterial(id: Identity): { ca: Buffer; cert: Buffer; key: Buffer } {
  return {
    ca: readFileSync(join(paths.pki, 'ca.crt')),
    cert: readFileSync(join(paths.pki, `${id}.crt`)),
    key: readFileSync(join(paths.pki, `${id}.key`)),
  };
}
