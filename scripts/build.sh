#!/usr/bin/env bash
# Compiles src/ (without its tests) to build/js/, the JavaScript that bin/ferrolb.js
# runs and the image ships: loading Node's TypeScript stripper and stripping every file
# at start costs each process about 30 MB of resident memory (docs/BENCHMARKS.md,
# "Footprint"). Does nothing when no source is newer than the last build; bin/ferrolb.js
# falls back to the sources while the build is older than any of them.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=build/js/.built
if [ -f "$stamp" ] && [ -z "$(find src tsconfig.json tsconfig.build.json -newer "$stamp" -name '*.ts' -o -newer "$stamp" -name 'tsconfig*.json' | head -1)" ]; then
  exit 0
fi
rm -rf build/js
node_modules/.bin/tsc -p tsconfig.build.json
touch "$stamp"
