#!/usr/bin/env bash
# The main job, from a fresh clone: the tutorial's configuration and services through
# `ferrolb plan` (what the controller would assign).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund --loglevel=error
node_modules/.bin/node src/cli/main.ts plan --config examples/tutorial/routing-config.yaml --services examples/tutorial/services.yaml "$@"
