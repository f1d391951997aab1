#!/usr/bin/env bash
# Prints the path of the helm binary the project builds (tools/helm/build.sh, cached
# under ${FERROLB_CACHE:-~/.cache/ferrolb}/helm/KEY/helm), building it first when it is
# missing (about 3.5 minutes on two cores; scripts/setup.sh does it up front). Use it as
#   "$(bash scripts/helm-path.sh)" template ferrolb charts/ferrolb -n metallb-system
# With --no-build it only prints, and exits 1 saying how to build when helm is not built.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
  --no-build) exec bash "$here/tools/helm/build.sh" --path ;;
  '') bash "$here/tools/helm/build.sh" | tail -n 1 ;;
  *) echo "helm-path.sh: unknown argument \"$1\" (expected --no-build or nothing)" >&2; exit 2 ;;
esac
