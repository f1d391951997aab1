import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generateCRDFiles, crdFor } from './crds.ts';

const dir = join(import.meta.dirname, '..', '..', 'deploy', 'crds');

describe('CRDs', () => {
  it('deploy/crds/ is what the schemas generate (run `npm run gen:crds` after changing a schema)', () => {
    const files = generateCRDFiles();
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort(), [...files.keys()].sort());
    for (const [name, text] of files) assert.equal(readFileSync(join(dir, name), 'utf8'), text, `${name} is stale`);
  });

  it('BGPPeer serves v1beta1 and v1beta2 and stores v1beta2; pools have a status subresource', () => {
    const peer = crdFor('BGPPeer') as { spec: { versions: { name: string; storage: boolean }[] } };
    assert.deepEqual(peer.spec.versions.map((v) => [v.name, v.storage]), [['v1beta1', false], ['v1beta2', true]]);
    const pool = parse(readFileSync(join(dir, 'metallb.io_ipaddresspools.yaml'), 'utf8'));
    assert.deepEqual(pool.spec.versions[0].subresources, { status: {} });
    assert.deepEqual(pool.spec.versions[0].additionalPrinterColumns.slice(0, 3).map((c: { name: string }) => c.name), ['Auto Assign', 'Avoid Buggy IPs', 'Addresses']);
  });
});
