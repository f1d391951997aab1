// MetalLB's own samples (test/fixtures/metallb-samples/crs, see NOTICE there: its
// configsamples and the YAML of its website) must pass `ferrolb validate` as they are:
// the claim that MetalLB's configuration works unchanged, checked on YAML no one on this
// project wrote.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './main.ts';
import { loadDocuments } from '../config/load.ts';
import { buildConfig } from '../config/build.ts';
import { formatConfigError } from '../config/errors.ts';

const CRS = fileURLToPath(new URL('../../test/fixtures/metallb-samples/crs/', import.meta.url));
const files = readdirSync(CRS).filter((f) => f.endsWith('.yaml')).sort();

async function validate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['validate', ...args], { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: CRS });
  return { code, out, err };
}

describe("MetalLB's samples", () => {
  it('are all there (71 files)', () => {
    assert.equal(files.length, 71);
  });
  for (const file of files) {
    it(`${file} passes validate alone (warnings allowed)`, async () => {
      const r = await validate([file]);
      assert.equal(r.code, 0, r.err);
      // Whatever is printed on stderr is a warning, never an error.
      for (const line of r.err.split('\n').filter((l) => l !== '')) assert.match(line, /^warning: /);
    });
  }

  it('together, the folder has no error but the collisions of unrelated samples (same names, same addresses), none of them order', async () => {
    // The samples are separate examples: many reuse "first-pool", 192.168.10.0/24 or the
    // peer at 172.30.0.3, so as one configuration they collide, as MetalLB would refuse
    // them too. Nothing else may be wrong: no missing reference is an error, no sample
    // is broken by another except by such a collision.
    const loaded = await loadDocuments([CRS]);
    assert.deepEqual(loaded.errors.filter((e) => e.severity !== 'warning').map(formatConfigError), []);
    const built = buildConfig(loaded.documents);
    const collisions = new Set(['EDUPLICATE', 'EOVERLAP', 'ELOCALPREF', 'EPEER', 'EDUPLICATEENTRY']);
    assert.deepEqual(built.errors.filter((e) => !collisions.has(e.code)).map(formatConfigError), []);
    for (const e of built.errors.filter((x) => x.code === 'EPEER' || x.code === 'EDUPLICATEENTRY')) {
      assert.match(e.message, /already (opens the session|defined)/, formatConfigError(e));
    }
  });
});
