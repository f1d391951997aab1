// Loads one of the N-API addons that native/build.sh compiles into build/native/. The
// speaker runs from the TypeScript sources (src/) or from their compiled JavaScript
// (build/js/src/, what the image ships), so the addon is looked up from this file's
// directory upwards instead of at a fixed depth.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cache = new Map<string, unknown>();

/** The path build/native/NAME.node would have from here; the first that exists going up. */
export function addonPath(name: string): string {
  const file = join('build', 'native', `${name}.node`);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, file);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), file);
    dir = up;
  }
}

/** The addon's exports; a clear error naming the file and the fix if it cannot load. */
export function loadAddon<T>(name: string, what: string): T {
  const hit = cache.get(name);
  if (hit) return hit as T;
  const path = addonPath(name);
  try {
    const addon = createRequire(import.meta.url)(path) as T;
    cache.set(name, addon);
    return addon;
  } catch (err) {
    throw new Error(`the ${what} addon ${path} cannot be loaded (build it with \`bash native/build.sh\`): ${(err as Error).message}`);
  }
}
