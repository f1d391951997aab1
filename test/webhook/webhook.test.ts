// The validating webhook against the lab's real API server: deploy/webhook/webhook.yaml
// registered (pointed at the controller on the host, trusting the lab CA), then
// kubectl apply/delete as a user would run them.
import { it, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, labBin, labOk, repoDir, stateDir, useLab, describeLab } from '../helpers/lab.ts';

function kubectlTry(args: readonly string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(labBin, ['kubectl', ...args], { ...(input !== undefined ? { input } : {}), encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const applyYAML = (yaml: string) => kubectlTry(['apply', '-f', '-'], yaml);

async function metric(name: string): Promise<string> {
  const res = await fetch('http://127.0.0.1:7472/metrics');
  return (await res.text()).split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describeLab('validating webhook in the lab', () => {
  useLab({ up: ['--nodes', '1', '--ferrolb'] });
  before(async () => {
    const r = kubectlTry(['apply', '-f', `${stateDir}/webhook.yaml`]);
    assert.equal(r.status, 0, r.stderr);
    // With failurePolicy Ignore an unanswered call lets a change through unchecked, so
    // "applied" proves nothing: wait until the webhook refuses a malformed pool.
    await eventually('the webhook judging', 20_000, () => {
      const r = applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: malformed, namespace: metallb-system}
spec: {addresses: ["not-an-address"]}
`);
      if (r.status === 0) kubectlTry(['delete', 'ipaddresspool', 'malformed', '-n', 'metallb-system']);
      return r.status !== 0 && /denied the request/.test(r.stderr) ? true : undefined;
    }, 500);
    const first = applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.220"]}
`);
    assert.equal(first.status, 0, first.stderr);
  });

  it('the controller made its own certificate, stored it in a Secret and wrote its CA into the caBundle', () => {
    const secret = JSON.parse(kubectlTry(['get', 'secret', 'ferrolb-webhook-cert', '-n', 'metallb-system', '-o', 'json']).stdout) as { type: string; data: Record<string, string> };
    assert.equal(secret.type, 'kubernetes.io/tls');
    const config = JSON.parse(kubectlTry(['get', 'validatingwebhookconfiguration', 'ferrolb-webhook-configuration', '-o', 'json']).stdout) as { webhooks: { clientConfig: { caBundle?: string } }[] };
    assert.equal(config.webhooks.length, 6);
    for (const w of config.webhooks) assert.equal(w.clientConfig.caBundle, secret.data['ca.crt']);
  });

  it('refuses a pool overlapping an existing pool, saying which', () => {
    const r = applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: second-pool, namespace: metallb-system}
spec: {addresses: ["198.18.0.210/31"]}
`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /admission webhook "ipaddresspoolsvalidationwebhook\.metallb\.io" denied the request: creating IPAddressPool metallb-system\/second-pool would make the metallb\.io configuration invalid: .*overlap/i);
    assert.match(r.stderr, /first-pool/);
    assert.notEqual(kubectlTry(['get', 'ipaddresspool', 'second-pool', '-n', 'metallb-system']).status, 0, 'nothing was stored');
  });

  it('refuses a pool in a tenant namespace', () => {
    labOk(['kubectl', 'create', 'namespace', 'tenant']);
    const r = applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: mine, namespace: tenant}
spec: {addresses: ["198.18.1.0/24"]}
`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /IPAddressPool tenant\/mine: metallb\.io configuration is read only from namespace metallb-system/);
  });

  it("the tutorial's two objects in either order, applied and deleted in either order", () => {
    const pool = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: tutorial-pool, namespace: metallb-system}
spec: {addresses: ["198.18.3.0/28"]}
`;
    const l2 = `apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: tutorial, namespace: metallb-system}
spec: {ipAddressPools: [tutorial-pool]}
`;
    for (const applyOrder of [[pool, l2], [l2, pool]]) {
      for (const deleteOrder of [['ipaddresspool/tutorial-pool', 'l2advertisement/tutorial'], ['l2advertisement/tutorial', 'ipaddresspool/tutorial-pool']]) {
        for (const y of applyOrder) {
          const r = applyYAML(y);
          assert.equal(r.status, 0, r.stderr);
          // The advertisement before its pool: accepted, and kubectl shows the webhook's warning.
          if (y === l2 && applyOrder[0] === l2) assert.match(r.stderr, /Warning: L2Advertisement metallb-system\/tutorial: spec\.ipAddressPools\[0\]: no IPAddressPool named "tutorial-pool"/);
        }
        for (const o of deleteOrder) {
          const r = kubectlTry(['delete', o, '-n', 'metallb-system']);
          assert.equal(r.status, 0, r.stderr);
        }
      }
    }
  });

  it("the tutorial's routing-config.yaml: kubectl apply -f, then kubectl delete -f (the pool is deleted first)", () => {
    const file = join(repoDir, 'examples', 'tutorial', 'routing-config.yaml');
    const applied = kubectlTry(['apply', '-f', file]);
    assert.equal(applied.status, 0, applied.stderr);
    const deleted = kubectlTry(['delete', '-f', file]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.match(deleted.stdout, /ipaddresspool\.metallb\.io "first-pool" deleted/);
    // first-pool was the before() hook's pool: put it back for the tests that follow.
    assert.equal(applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: first-pool, namespace: metallb-system}
spec: {addresses: ["198.18.0.200-198.18.0.220"]}
`).status, 0);
  });

  it('a BGP set applied dependents first and deleted referents first, then in Helm\'s order; a BFDProfile in use can be deleted', () => {
    const objects = [
      `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: adv, namespace: metallb-system}
spec: {ipAddressPools: [bgp-pool], peers: [router], communities: [no-export]}
`,
      `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 198.18.0.1, bfdProfile: fast}
`,
      `apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: communities, namespace: metallb-system}
spec: {communities: [{name: no-export, value: "65535:65281"}]}
`,
      `apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 300, transmitInterval: 300}
`,
      `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec: {addresses: ["198.18.4.0/28"]}
`,
    ];
    for (const y of objects) {
      const r = applyYAML(y);
      assert.equal(r.status, 0, r.stderr);
    }
    // The complete set has no warning left: a change to the peer comes back without one.
    const changed = applyYAML(objects[1]!.replace('bfdProfile: fast}', 'bfdProfile: fast, holdTime: 60s}'));
    assert.equal(changed.status, 0, changed.stderr);
    assert.doesNotMatch(changed.stderr, /Warning/);
    for (const o of ['ipaddresspool/bgp-pool', 'bfdprofile/fast', 'community/communities', 'bgppeer/router', 'bgpadvertisement/adv']) {
      const r = kubectlTry(['delete', o, '-n', 'metallb-system']);
      assert.equal(r.status, 0, r.stderr);
    }
    // As a Helm chart installs them: one stream, kinds in alphabetical order (BFDProfile,
    // BGPAdvertisement, BGPPeer, Community, IPAddressPool), then deleted the same way.
    const helmOrder = [objects[3]!, objects[0]!, objects[1]!, objects[2]!, objects[4]!].join('---\n');
    const installed = kubectlTry(['apply', '-f', '-'], helmOrder);
    assert.equal(installed.status, 0, installed.stderr);
    const uninstalled = kubectlTry(['delete', '-f', '-'], helmOrder);
    assert.equal(uninstalled.status, 0, uninstalled.stderr);
  });

  it('a deleted certificate Secret is issued again, the caBundle follows, and the webhook keeps working', async () => {
    const before = JSON.parse(kubectlTry(['get', 'secret', 'ferrolb-webhook-cert', '-n', 'metallb-system', '-o', 'json']).stdout).data['ca.crt'] as string;
    assert.equal(kubectlTry(['delete', 'secret', 'ferrolb-webhook-cert', '-n', 'metallb-system']).status, 0);
    await eventually('a new CA in the Secret and the caBundle, and a change judged', 40_000, () => {
      const r = kubectlTry(['get', 'secret', 'ferrolb-webhook-cert', '-n', 'metallb-system', '-o', 'json']);
      if (r.status !== 0) return undefined;
      const ca = JSON.parse(r.stdout).data['ca.crt'] as string;
      const bundle = JSON.parse(kubectlTry(['get', 'validatingwebhookconfiguration', 'ferrolb-webhook-configuration', '-o', 'json']).stdout).webhooks[0].clientConfig.caBundle as string;
      if (ca === before || bundle !== ca) return undefined;
      const refused = applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: third-pool, namespace: metallb-system}
spec: {addresses: ["198.18.0.200/32"]}
`);
      // Stored unchecked while the API server's call still failed (the old certificate
      // served a moment longer; failurePolicy Ignore): take it back and try again.
      if (refused.status === 0) kubectlTry(['delete', 'ipaddresspool', 'third-pool', '-n', 'metallb-system']);
      // Refused by the webhook (not "failed calling webhook"): TLS with the new certificate works.
      return /denied the request/.test(refused.stderr) ? true : undefined;
    }, 1000);
  });

  it('refused changes are counted in the controller\'s metrics', async () => {
    const lines = await metric('ferrolb_webhook_decisions_total');
    assert.match(lines, /ferrolb_webhook_decisions_total\{kind="IPAddressPool",operation="CREATE",allowed="false"\} [1-9]/);
    assert.match(lines, /ferrolb_webhook_decisions_total\{kind="L2Advertisement",operation="CREATE",allowed="true"\} [1-9]/);
    assert.doesNotMatch(lines, /operation="DELETE"/, 'deletions are not sent to the webhook');
  });

  it('with no controller answering, changes are stored unchecked (failurePolicy Ignore), quickly, and nothing else is affected', () => {
    const pid = Number(readFileSync(`${stateDir}/pids/ferrolb-controller.pid`, 'utf8').trim());
    process.kill(pid, 'SIGKILL');
    const started = Date.now();
    const r = applyYAML(`apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
`);
    assert.equal(r.status, 0, r.stderr);
    // Not a hang: a refused connection fails the call at once (timeoutSeconds 5 bounds the rest).
    assert.ok(Date.now() - started < 10_000, `kubectl apply took ${Date.now() - started} ms`);
    // Even one that the webhook would refuse (the controller checks it when it loads the
    // configuration, keeps the last valid one in force and reports the error).
    const overlap = applyYAML(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: overlapping, namespace: metallb-system}
spec: {addresses: ["198.18.0.210-198.18.0.230"]}
`);
    assert.equal(overlap.status, 0, overlap.stderr);
    assert.equal(kubectlTry(['create', 'configmap', 'unrelated', '-n', 'default']).status, 0);
  });

  it("with no controller answering, deletions still go through, and the tutorial's cleanup `kubectl delete namespace metallb-system` completes", async () => {
    // Deletions are not sent to the webhook (deploy/webhook registers CREATE and UPDATE),
    // so even with failurePolicy Fail nothing could block them once the controller is gone.
    assert.equal(kubectlTry(['get', 'ipaddresspool', 'first-pool', '-n', 'metallb-system']).status, 0, 'a configuration object to delete');
    const all = kubectlTry(['delete', 'ipaddresspools', '--all', '-n', 'metallb-system']);
    assert.equal(all.status, 0, all.stderr);
    const r = kubectlTry(['delete', 'namespace', 'metallb-system', '--wait=false']);
    assert.equal(r.status, 0, r.stderr);
    await eventually('namespace metallb-system gone', 60_000, () => (kubectlTry(['get', 'namespace', 'metallb-system']).status !== 0 ? true : undefined), 1000);
  });
});
