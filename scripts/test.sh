#!/usr/bin/env bash
# Every test ferrolb has, from a fresh clone: set-up, then type check, unit and
# property tests, and the integration tests against the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm test
