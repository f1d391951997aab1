// MetalLB's converter test data (test/fixtures/metallb-samples/legacy, see NOTICE
// there): legacy ConfigMaps and the objects its configmaptocrs writes for each.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const LEGACY = fileURLToPath(new URL('../../test/fixtures/metallb-samples/legacy/', import.meta.url));

/** The objects of a `*.golden` file (or any YAML stream there), in order. */
export const goldenObjects = (file: string): unknown[] =>
  parseAllDocuments(readFileSync(join(LEGACY, file), 'utf8'))
    .map((d) => d.toJS())
    .filter((o) => o !== null);
