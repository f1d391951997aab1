#!/usr/bin/env bash
# Builds the N-API addon (native/*.c -> build/native/*.node) with the system C compiler
# and the Node-API headers from the npm registry (node-api-headers): Node-API is ABI
# stable, so the addon needs neither node-gyp nor Node's own source headers. Rebuilds only
# when a source is newer than its output. Run by `npm ci` (the prepare script).
set -euo pipefail
cd "$(dirname "$0")/.."
headers=node_modules/node-api-headers/include
out=build/native
mkdir -p "$out"
for src in native/*.c; do
  name=$(basename "$src" .c)
  target="$out/$name.node"
  if [ -f "$target" ] && [ "$target" -nt "$src" ] && [ "$target" -nt native/build.sh ]; then continue; fi
  cc -O2 -g -std=c11 -shared -fPIC -Wall -Wextra -Werror -pthread \
    -DNODE_GYP_MODULE_NAME="$name" -I"$headers" -o "$target.tmp" "$src"
  mv "$target.tmp" "$target"
done
