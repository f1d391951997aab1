// Writes deploy/crds/ from the schemas in src/api (see src/api/crds.ts).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCRDFiles } from '../src/api/crds.ts';

const dir = join(import.meta.dirname, '..', 'deploy', 'crds');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) if (f.endsWith('.yaml')) rmSync(join(dir, f));
for (const [name, text] of generateCRDFiles()) writeFileSync(join(dir, name), text);
console.log(`wrote ${generateCRDFiles().size} CRDs to deploy/crds/`);
