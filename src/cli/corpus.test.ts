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

  it('together, the folder has no error but the collisions of unrelated samples (same addresses, same session), none of them order or a name used twice', async () => {
    // The samples are separate examples: many reuse "first-pool", 192.168.10.0/24 or the
    // peer at 172.30.0.3. A name used again is the same object applied again (the later
    // replaces the earlier, as `kubectl apply -f crs/` leaves it: a warning); addresses
    // and sessions used again collide, as MetalLB refuses overlapping pools and
    // incompatible localPrefs too. Nothing else may be wrong: no missing reference is an
    // error, no sample is broken by another except by such a collision.
    const loaded = await loadDocuments([CRS]);
    assert.deepEqual(loaded.errors.filter((e) => e.severity !== 'warning').map(formatConfigError), []);
    const built = buildConfig(loaded.documents);
    assert.ok(built.warnings.filter((w) => w.code === 'EDUPLICATE').length >= 10, 'the names used again are warnings');
    const collisions = new Set(['EOVERLAP', 'ELOCALPREF', 'EPEER', 'EDUPLICATEENTRY']);
    assert.deepEqual(built.errors.filter((e) => !collisions.has(e.code)).map(formatConfigError), []);
    for (const e of built.errors.filter((x) => x.code === 'EPEER' || x.code === 'EDUPLICATEENTRY')) {
      assert.match(e.message, /already (opens the session|defined)/, formatConfigError(e));
    }
  });
});
