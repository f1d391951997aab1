// MetalLB's controller and speaker flags, as its manifests and Helm chart pass them
// (metallb/metallb config/manifests/metallb-native.yaml, charts/metallb/templates).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { translateMetalLBFlags } from './metallb-flags.ts';
import { parseArgs } from './args.ts';

const CONTROLLER = ['kubeconfig', 'namespace', 'lb-class', 'metrics-addr', 'health-addr', 'log-level', 'leader-elect', 'lease-duration', 'renew-deadline', 'retry-period', 'webhook-mode', 'webhook-port', 'cert-dir', 'cert-service-name', 'webhook-configuration-name', 'cert-extra-hosts', 'cert-secret-name', 'ml-secret-name', 'deployment', 'metrics-cert-dir'];
const SPEAKER = ['node-name', 'kubeconfig', 'namespace', 'lb-class', 'metrics-addr', 'health-addr', 'log-level', 'ml-bind-addr', 'ml-bind-port', 'ml-secret-key-path'];

describe("MetalLB's flags", () => {
  it("the native manifest's controller: --port and --log-level, MetalLB's env, health on 17472, the webhook under MetalLB's names", () => {
    const env = { METALLB_POD_NAME: 'controller-abc', METALLB_ML_SECRET_NAME: 'memberlist', METALLB_DEPLOYMENT: 'controller' };
    const t = translateMetalLBFlags('controller', ['--port=9120', '--log-level=info'], env, CONTROLLER);
    assert.deepEqual(t.warnings, []);
    assert.deepEqual(parseArgs(t.args, { single: CONTROLLER, flags: ['metrics-secure'] }).single, {
      'metrics-addr': '0.0.0.0:9120',
      'log-level': 'info',
      'ml-secret-name': 'memberlist',
      deployment: 'controller',
      'health-addr': '0.0.0.0:17472',
      'cert-service-name': 'metallb-webhook-service',
      'webhook-configuration-name': 'metallb-webhook-configuration',
      'cert-secret-name': 'metallb-webhook-cert',
      // MetalLB's RBAC has no Leases; its controller runs as one replica without election.
      'leader-elect': 'false',
    });
    // MetalLB v0.16 serves --port over HTTPS with tokens checked: so does ferrolb here.
    assert.ok(parseArgs(t.args, { single: CONTROLLER, flags: ['metrics-secure'] }).flags.has('metrics-secure'));
    // Before v0.16 (--port=7472, probes reading /metrics there) it was plain HTTP, and stays so.
    const v015 = translateMetalLBFlags('controller', ['--port=7472', '--log-level=info'], env, CONTROLLER);
    assert.ok(!v015.args.includes('--metrics-secure'));
    // v0.16's chart passes --health-probe-port (v0.16's flag) with any metrics port.
    assert.ok(translateMetalLBFlags('controller', ['--port=7472', '--health-probe-port=7572'], env, CONTROLLER).args.includes('--metrics-secure'));
    // Its own certificate, or a port of 0 (no metrics): no second flag.
    assert.ok(!translateMetalLBFlags('controller', ['--port=9120', '--metrics-cert-dir=/etc/metrics'], env, CONTROLLER).args.includes('--metrics-secure'));
    assert.ok(!translateMetalLBFlags('controller', ['--port=0'], env, CONTROLLER).args.includes('--metrics-secure'));
    // Outside MetalLB's manifests (no METALLB_POD_NAME), ferrolb's own defaults stay.
    assert.deepEqual(translateMetalLBFlags('controller', ['--webhook-secret=mine'], {}, CONTROLLER).args, ['--cert-secret-name', 'mine']);
  });
  it("the native manifest's speaker: node, memberlist address and key from the environment", () => {
    const env = { METALLB_NODE_NAME: 'n1', METALLB_POD_NAME: 'speaker-x', METALLB_HOST: '10.0.0.5', METALLB_ML_BIND_ADDR: '10.244.0.7', METALLB_ML_LABELS: 'app=metallb,component=speaker', METALLB_ML_SECRET_KEY_PATH: '/etc/ml_secret_key' };
    const t = translateMetalLBFlags('speaker', ['--port=9120', '--log-level=info'], env, SPEAKER);
    assert.deepEqual(t.warnings, []);
    assert.deepEqual(parseArgs(t.args, { single: SPEAKER, flags: ['metrics-secure'] }).single, { 'metrics-addr': '0.0.0.0:9120', 'log-level': 'info', 'ml-bind-addr': '10.244.0.7', 'health-addr': '0.0.0.0:17472' });
  });
  it("the Helm chart's flags: translated, or accepted with a warning naming each", () => {
    const controller = translateMetalLBFlags('controller', ['--health-probe-port=7472', '--lb-class=metallb', '--log-level=all', '--metrics-cert-dir=/etc/metrics', '--port=7472', '--tls-min-version=VersionTLS12', '--webhook-mode=onlywebhook'], {}, CONTROLLER);
    assert.deepEqual(parseArgs(controller.args, { single: CONTROLLER }).single, { 'health-addr': '0.0.0.0:7472', 'lb-class': 'metallb', 'log-level': 'trace', 'metrics-cert-dir': '/etc/metrics', 'metrics-addr': '0.0.0.0:7472', 'webhook-mode': 'enabled' });
    assert.deepEqual(controller.warnings.map((w) => w.split(':')[0]), ['--tls-min-version', '--webhook-mode onlywebhook']);
    const speaker = translateMetalLBFlags('speaker', ['--port', '7472', '--ml-bindport=7946', '--ignore-exclude-lb', '--ml-wan-config', '--frrk8s-namespace', 'frr-k8s-system', '--bgp-debounce-timeout=5s', '-log-level=debug'], {}, SPEAKER);
    assert.deepEqual(parseArgs(speaker.args, { single: SPEAKER }).single, { 'metrics-addr': '0.0.0.0:7472', 'ml-bind-port': '7946', 'log-level': 'debug' });
    assert.deepEqual(speaker.warnings.map((w) => w.split(':')[0]), ['--ignore-exclude-lb is not implemented in ferrolb', '--ml-wan-config', '--frrk8s-namespace', '--bgp-debounce-timeout']);
  });
  it("leaves ferrolb's own arguments alone (deploy/ferrolb.yaml), and lets its parser refuse unknown ones", () => {
    const own = ['--namespace=metallb-system', '--metrics-addr=0.0.0.0:7472', '--ml-bind-port=7946'];
    assert.deepEqual(translateMetalLBFlags('speaker', own, {}, SPEAKER), { args: own, warnings: [] });
    assert.deepEqual(translateMetalLBFlags('speaker', ['--bogus'], {}, SPEAKER).args, ['--bogus']);
    // A controller-only MetalLB flag on the speaker is not translated.
    assert.deepEqual(translateMetalLBFlags('speaker', ['--webhook-mode=disabled'], {}, SPEAKER).args, ['--webhook-mode=disabled']);
    // An explicit flag wins over MetalLB's environment; --port 0 turns metrics off.
    const t = translateMetalLBFlags('controller', ['--namespace', 'lb', '--port=0'], { METALLB_NAMESPACE: 'other' }, CONTROLLER);
    assert.deepEqual(parseArgs(t.args, { single: CONTROLLER }).single, { namespace: 'lb', 'metrics-addr': 'off' });
  });
});
