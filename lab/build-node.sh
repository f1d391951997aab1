#!/usr/bin/env bash
# Builds what the lab's real nodes run (`lab/lab up --real-nodes K`, docs/LAB.md):
#   - kubelet (and kube-scheduler, kube-controller-manager) from the Go module proxy, at
#     the k8s.io/kubernetes pin of lab/controlplane/go.mod, through the wrapper module
#     lab/node (the same pin and staging replaces plus the kubelet's extra modules; a
#     module of its own so that adding them does not change lab/build.sh's key and
#     rebuild the control plane);
#   - two OCI image archives made here, no registry: the pod sandbox (lab/images/pause.c,
#     static) and the workload image (lab/images/hostname, a static Go server).
# Both are cached outside the work tree, keyed by a hash of their inputs, so a warm
# machine rebuilds nothing and a new machine builds from nothing.
# Usage: build-node.sh [BINARY...]   (default: all three). Prints two lines at the end:
# the binaries' directory, then the images' directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${FERROLB_CACHE:-$HOME/.cache/ferrolb}

pin() { awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$1"; }
k8s_version=$(pin "$here/controlplane/go.mod")
if [ "$(pin "$here/node/go.mod")" != "$k8s_version" ]; then
  echo "build-node: lab/node/go.mod pins k8s.io/kubernetes $(pin "$here/node/go.mod"), lab/controlplane/go.mod $k8s_version; they must agree" >&2
  exit 1
fi

bin_key=$( (sed -n '/^# ---- binaries/,/^# ---- images/p' "$0"; cat "$here/node/go.mod" "$here/node/go.sum") | sha256sum | cut -c1-16)
img_key=$( (sed -n '/^# ---- images/,$p' "$0"; cat "$here/images/pause.c" "$here/images/hostname/go.mod" "$here/images/hostname/main.go"; go version; gcc --version | head -1) | sha256sum | cut -c1-16)
bin_out="$cache/node-bin/$bin_key"
img_out="$cache/images/$img_key"
# One build at a time: two would write the same temporary files.
mkdir -p "$cache"
exec 9>"$cache/build-node.lock"
flock 9

# ---- binaries
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(kubelet kube-scheduler kube-controller-manager)
mkdir -p "$bin_out"
major=${k8s_version#v}; major=${major%%.*}
minor=${k8s_version#v*.}; minor=${minor%%.*}
# Without these stamps the binaries report v0.0.0 and version-skew checks misbehave.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
for name in "${want[@]}"; do
  case $name in kubelet|kube-scheduler|kube-controller-manager) ;; *) echo "build-node: unknown binary $name" >&2; exit 2 ;; esac
  [ -x "$bin_out/$name" ] && continue
  echo "building $name (k8s.io/kubernetes/cmd/$name $k8s_version)" >&2
  start=$SECONDS
  # nice: two shared cores; the machine stays usable while this runs.
  (cd "$here/node" && CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$bin_out/$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$bin_out/$name.tmp" "$bin_out/$name"
  echo "built $name in $((SECONDS - start)) s ($(du -h "$bin_out/$name" | cut -f1))" >&2
done

# ---- images
# An OCI image layout (oci-layout, index.json, blobs/sha256/...) with one uncompressed
# layer, tarred: what `ctr images import` reads. Deterministic: same inputs, same digests.
oci_image() { # name rootfs-dir entrypoint-json out.tar
  local name=$1 rootfs=$2 entrypoint=$3 tarball=$4 work
  work=$(mktemp -d)
  mkdir -p "$work/blobs/sha256"
  local tarflags=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu)
  tar -C "$rootfs" "${tarflags[@]}" -cf "$work/layer.tar" .
  local layer lsize config csize manifest msize
  layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1); lsize=$(stat -c %s "$work/layer.tar")
  mv "$work/layer.tar" "$work/blobs/sha256/$layer"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s,"Env":["PATH=/"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"lab/build-node.sh"}]}' \
    "$entrypoint" "$layer" > "$work/config.json"
  config=$(sha256sum "$work/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$work/config.json")
  mv "$work/config.json" "$work/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$config" "$csize" "$layer" "$lsize" > "$work/manifest.json"
  manifest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$work/manifest.json")
  mv "$work/manifest.json" "$work/blobs/sha256/$manifest"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$msize" "$name" "${name##*:}" > "$work/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
  tar -C "$work" "${tarflags[@]}" -cf "$tarball.tmp" oci-layout index.json blobs
  mv "$tarball.tmp" "$tarball"
  rm -rf "$work"
}

if [ ! -f "$img_out/pause.tar" ] || [ ! -f "$img_out/hostname.tar" ]; then
  start=$SECONDS
  mkdir -p "$img_out"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/pause" "$tmp/hostname/tmp"
  gcc -static -Os -s -o "$tmp/pause/pause" "$here/images/pause.c"
  (cd "$here/images/hostname" && CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "-s -w" -o "$tmp/hostname/hostname" .)
  chmod 1777 "$tmp/hostname/tmp"
  oci_image lab.ferrolb.io/pause:1 "$tmp/pause" '["/pause"]' "$img_out/pause.tar"
  oci_image lab.ferrolb.io/hostname:1 "$tmp/hostname" '["/hostname"]' "$img_out/hostname.tar"
  echo "built images in $((SECONDS - start)) s (pause $(du -h "$img_out/pause.tar" | cut -f1), hostname $(du -h "$img_out/hostname.tar" | cut -f1))" >&2
fi
echo "$bin_out"
echo "$img_out"
