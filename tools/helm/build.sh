#!/usr/bin/env bash
# Builds helm from its published Go module at the pin in tools/helm/go.mod, as
# lab/build.sh builds the lab's binaries: cached outside the work tree under the same
# cache root, keyed by a hash of this script and the pins, so a warm machine rebuilds
# nothing. charts/ferrolb's tests use it; so can you (scripts/helm-path.sh prints it).
#   build.sh          build when missing; print the helm binary's path on the last line
#   build.sh --path   only print the path; exit 1 (saying how to build) when not built
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${FERROLB_CACHE:-$HOME/.cache/ferrolb}
key=$(cat "$here/build.sh" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
out="$cache/helm/$key"
helm="$out/helm"

case ${1:-} in
  --path)
    if [ -x "$helm" ]; then echo "$helm"; exit 0; fi
    echo "helm is not built (no $helm): run bash tools/helm/build.sh (scripts/setup.sh does)" >&2
    exit 1 ;;
  '') ;;
  *) echo "tools/helm/build.sh: unknown argument \"$1\" (expected --path or nothing)" >&2; exit 2 ;;
esac
if [ -x "$helm" ]; then echo "$helm"; exit 0; fi

# One build at a time: two would write the same temporary file.
mkdir -p "$out"
exec 9>"$cache/build-helm.lock"
flock 9
if [ -x "$helm" ]; then echo "$helm"; exit 0; fi

pin() { awk -v m="$1" '($1=="require" && $2==m) || $1==m {print ($1=="require" ? $3 : $2); exit}' "$here/go.mod"; }
version=$(pin helm.sh/helm/v3)
client_go=$(pin k8s.io/client-go)       # v0.M.P: helm's default Kubernetes is 1.M
k8s_minor=${client_go#v0.}; k8s_minor=${k8s_minor%%.*}
# Helm's own Makefile stamps these: without them `helm version` says "v3.22" and
# `helm template`/`helm lint` assume Kubernetes 1.20 for .Capabilities and deprecations.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done

echo "building helm $version (helm.sh/helm/v3/cmd/helm)" >&2
start=$SECONDS
# nice: two shared cores; the machine stays usable while this runs.
(cd "$here" && CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$helm.tmp" helm.sh/helm/v3/cmd/helm)
mv "$helm.tmp" "$helm"
echo "built helm in $((SECONDS - start)) s ($(du -h "$helm" | cut -f1))" >&2
echo "$helm"
