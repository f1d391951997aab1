// `ferrolb migrate-config` and `validate` on MetalLB's legacy ConfigMaps, through the
// command line (the conversion itself is tested in src/config/legacy.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { goldenObjects, LEGACY } from '../config/legacy-samples.test-support.ts';
import { main } from './main.ts';

describe('ferrolb migrate-config and validate on legacy files', () => {
  const run = async (args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: LEGACY });
    return { code, out, err };
  };
  it('prints the resources as YAML that validate accepts', async () => {
    const r = await run(['migrate-config', 'configmap-yaml_config-yaml-full.yaml']);
    assert.equal(r.code, 0, r.err);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS()).filter((o) => o !== null);
    assert.deepEqual(docs, goldenObjects('configmap-yaml_config-yaml-full.golden'));
    assert.match(r.err, /warning: .*protocol "l2"/);
  });
  it('-o json prints the same objects as a v1 List; a table is a usage error', async () => {
    const r = await run(['migrate-config', '-o', 'json', 'configmap-data_config-data-full.yaml']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { apiVersion: 'v1', kind: 'List', items: goldenObjects('configmap-data_config-data-full.golden') });
    assert.equal((await run(['migrate-config', '-o', 'wide', 'configmap-data_config-data-full.yaml'])).code, 2);
  });
  it('reads standard input for -', async () => {
    let out = '';
    const code = await main(['migrate-config', '-'], { stdout: (t) => void (out += t), stderr: () => {}, cwd: LEGACY, stdin: async () => readFileSync(join(LEGACY, 'configmap-yaml_config-yaml-peers.yaml')) });
    assert.equal(code, 0);
    assert.deepEqual(parseAllDocuments(out).map((d) => d.toJS()).filter((o) => o !== null), goldenObjects('configmap-yaml_config-yaml-peers.golden'));
  });
  it('validate says what a legacy ConfigMap is and points to migrate-config; so for bare data', async () => {
    const cm = await run(['validate', 'configmap-yaml_config-yaml-peers.yaml']);
    assert.equal(cm.code, 0);
    assert.match(cm.err, /warning: configmap-yaml_config-yaml-peers\.yaml:\d+: ConfigMap metallb-system\/config: data\.config: MetalLB's configuration format before v0\.13.*`ferrolb migrate-config configmap-yaml_config-yaml-peers\.yaml`/);
    const bare = await run(['validate', 'configmap-data_config-data-peers.yaml']);
    assert.equal(bare.code, 1);
    assert.match(bare.err, /apiVersion is missing and kind is missing: this is MetalLB's configuration format before v0\.13 .*`ferrolb migrate-config FILE`/);
  });
});
