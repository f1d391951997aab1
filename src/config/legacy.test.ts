// migrate-config against MetalLB's own converter: for each legacy input of its test data
// (test/fixtures/metallb-samples/legacy, see NOTICE there), the objects ferrolb writes
// equal the objects in MetalLB's `*.golden` output (field order and comments aside).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrateLegacyConfig } from './legacy.ts';
import { isLegacyConfigMap } from './legacy-format.ts';
import { formatConfigError } from './errors.ts';
import { goldenObjects, LEGACY } from './legacy-samples.test-support.ts';

const inputs = readdirSync(LEGACY).filter((f) => f.endsWith('.yaml')).sort();

describe("migrate-config: MetalLB's converter test data", () => {
  it('has both forms of every case (12 inputs, each with its golden)', () => {
    assert.equal(inputs.length, 12);
    for (const f of inputs) assert.ok(readdirSync(LEGACY).includes(f.replace(/\.yaml$/, '.golden')), f);
  });
  for (const input of inputs) {
    it(`${input}: the objects equal ${input.replace(/\.yaml$/, '.golden')}`, () => {
      const m = migrateLegacyConfig(readFileSync(join(LEGACY, input), 'utf8'), input);
      assert.deepEqual(m.findings.filter((f) => f.severity !== 'warning').map(formatConfigError), []);
      assert.deepEqual(m.objects, goldenObjects(input.replace(/\.yaml$/, '.golden')));
    });
  }
  it('names what does not convert: a protocol other than bgp/layer2 (the full sample has "l2"), with its line', () => {
    const m = migrateLegacyConfig(readFileSync(join(LEGACY, 'configmap-yaml_config-yaml-full.yaml'), 'utf8'), 'full.yaml');
    const lines = m.findings.map(formatConfigError);
    assert.deepEqual(lines.length, 1, lines.join('\n'));
    // The ConfigMap's `config:` key is on line 6; the pool's protocol on line 7 + 27 of the data.
    assert.match(lines[0]!, /^full\.yaml:\d+: address-pools\[1\]\.protocol: protocol "l2" is neither bgp nor layer2: no advertisement is written for IPAddressPool my-l2-space/);
    const line = Number(lines[0]!.split(':')[1]);
    assert.equal(readFileSync(join(LEGACY, 'configmap-yaml_config-yaml-full.yaml'), 'utf8').split('\n')[line - 1]!.trim(), 'protocol: l2');
  });
  it('renames as MetalLB does and says so', () => {
    const m = migrateLegacyConfig(readFileSync(join(LEGACY, 'configmap-data_config-data-convert-names.yaml'), 'utf8'));
    assert.match(m.notes.join('\n'), /IPAddressPool "01-numbered-addresspool" is named "numbered-addresspool"/);
    assert.match(m.notes.join('\n'), /BFDProfile "underscored_bfd_profile" is named "underscored-bfd-profile"/);
  });
});

describe('migrate-config: fields that do not convert, and bad input', () => {
  const data = (text: string) => migrateLegacyConfig(text, 'c.yaml');
  it('names unknown fields (with a "did you mean") and converts the rest', () => {
    const m = data('peers:\n- my-asn: 64512\n  peer-asn: 64513\n  peer-address: 10.0.0.1\n  holdtime: 30s\n  vrf: red\naddress-pools:\n- name: p\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n');
    assert.deepEqual(m.findings.map(formatConfigError), [
      'c.yaml:5: peers[0].holdtime: not a field of MetalLB\'s legacy format (did you mean hold-time?): not converted',
      "c.yaml:6: peers[0].vrf: not a field of MetalLB's legacy format: not converted",
    ]);
    assert.equal(m.objects.length, 3);
    assert.deepEqual((m.objects[0]!.spec as Record<string, unknown>).holdTime, '1m30s');
  });
  it('stops on what MetalLB\'s converter stops on: wrong types, bad durations, names without a letter', () => {
    assert.deepEqual(data('peers:\n- my-asn: x\n').objects, []);
    assert.match(formatConfigError(data('peers:\n- my-asn: x\n').findings[0]!), /c\.yaml:2: peers\[0\]\.my-asn: must be an integer 0\.\.4294967295, not string "x"/);
    assert.match(formatConfigError(data('peers:\n- my-asn: 1\n  hold-time: 2s\n').findings[0]!), /hold time 2s must be 0 or at least 3s/);
    assert.match(formatConfigError(data('peers:\n- my-asn: 1\n  hold-time: 90\n').findings[0]!), /90 is a number, not a duration: write "90s"/);
    assert.match(formatConfigError(data('address-pools:\n- name: "0123"\n  protocol: bgp\n  addresses: []\n').findings[0]!), /name "0123" has no letter/);
  });
  it('refuses what is not legacy configuration', () => {
    assert.match(formatConfigError(data('apiVersion: v1\nkind: Service\nmetadata: {name: x}\n').findings[0]!), /neither a ConfigMap with a `config` key nor MetalLB's legacy `config` data/);
    assert.match(formatConfigError(data('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\ndata: {}\n').findings[0]!), /no `config` data/);
  });
  it('recognises a legacy ConfigMap', () => {
    assert.equal(isLegacyConfigMap({ data: { config: 'address-pools:\n- name: a\n' } }), true);
    assert.equal(isLegacyConfigMap({ data: { config: 'log-level: info\n' } }), false);
    assert.equal(isLegacyConfigMap({ data: {} }), false);
  });
});
