#!/usr/bin/env bash
# Builds the lab's real control-plane binaries (kube-apiserver, kube-proxy, kubectl,
# etcd) from the Go module proxy, at the pins in lab/controlplane/go.mod and
# lab/etcd/go.mod. Binaries are cached outside the work tree, keyed by a hash of the
# pins, so a warm machine rebuilds nothing and a new machine builds from nothing.
# Prints the directory holding the binaries on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${FERROLB_CACHE:-$HOME/.cache/ferrolb}
k8s_version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$here/controlplane/go.mod")
key=$(cat "$here/build.sh" "$here/controlplane/go.mod" "$here/controlplane/go.sum" \
          "$here/etcd/go.mod" "$here/etcd/go.sum" | sha256sum | cut -c1-16)
out="$cache/bin/$key"
want=(kube-apiserver kube-proxy kubectl etcd)

have_all() { for b in "${want[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi

mkdir -p "$out"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
# Without these stamps the binaries report v0.0.0 and version-skew checks misbehave.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build() { # module-dir name package
  local dir=$1 name=$2 pkg=$3
  [ -x "$out/$name" ] && return 0
  echo "building $name ($pkg)" >&2
  local start=$SECONDS
  (cd "$here/$dir" && go build -trimpath -ldflags "$ldflags" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  echo "built $name in $((SECONDS - start)) s" >&2
}
build controlplane kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build controlplane kubectl k8s.io/kubernetes/cmd/kubectl
build controlplane kube-proxy k8s.io/kubernetes/cmd/kube-proxy
build etcd etcd go.etcd.io/etcd/server/v3
echo "$out"
