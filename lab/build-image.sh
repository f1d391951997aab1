#!/usr/bin/env bash
# Builds the ferrolb image from the repository's own Dockerfile, unchanged, with Debian's
# buildah, on a machine that reaches no container registry (docs/LAB.md, "Real nodes"):
#   - the Dockerfile's bases, node:24-bookworm and node:24-bookworm-slim, are stood in
#     for by local images of those names: a Debian bookworm root file system from
#     mmdebstrap (build stage: plus build-essential and python3; slim: minbase) with
#     Node 24 from the npm registry's `node` package (node_modules/node) and, in the build
#     stage, the machine's npm and CA bundle (so `npm ci` inside reaches the registry the
#     way this machine does);
#   - `buildah bud --pull=never` builds the Dockerfile against them;
#   - the result is written as an OCI archive, lab.ferrolb.io/ferrolb:dev, for
#     `ctr images import` on the lab's real nodes.
# Cached: the bases by their inputs, the image by the Dockerfile's inputs. Buildah's
# storage (vfs driver: no mounts left behind) is under the cache directory.
# Prints the archive's path on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cache=${FERROLB_CACHE:-$HOME/.cache/ferrolb}
storage=(--root "$cache/containers/storage" --runroot "$cache/containers/run" --storage-driver vfs)
for tool in buildah mmdebstrap; do
  command -v $tool >/dev/null || { echo "build-image: $tool is not installed (apt-get install buildah mmdebstrap)" >&2; exit 1; }
done
node_bin=$repo/node_modules/node/bin/node
[ -x "$node_bin" ] || { echo "build-image: $node_bin is missing; run npm ci first" >&2; exit 1; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
ca=/etc/ssl/certs/ca-certificates.crt

# Contents only, never paths: a clone elsewhere (CI's) must find the same bases.
base_key=$( (sed -n '/^# ---- bases/,/^# ---- image/p' "$0"; sha256sum < "$node_bin"; sha256sum < "$ca"; cat "$npm_dir/package.json") | sha256sum | cut -c1-16)
image_key=$( (echo "$base_key"; cd "$repo" && cat Dockerfile package.json package-lock.json && find native bin src scripts/build.sh tsconfig.json tsconfig.build.json -type f | LC_ALL=C sort | xargs sha256sum) | sha256sum | cut -c1-16)
out="$cache/images/ferrolb-$image_key.tar"
if [ -f "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache/images" "$cache/containers"
# One build at a time (CI's setup and a test run may both ask): buildah's storage is shared.
exec 9>"$cache/containers/build.lock"
flock 9
if [ -f "$out" ]; then echo "$out"; exit 0; fi

# ---- bases
base_done="$cache/containers/bases-$base_key.done"
if [ ! -f "$base_done" ]; then
  start=$SECONDS
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  slim_opts=(--variant=minbase --aptopt='Apt::Install-Recommends "false"'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*')
  nice -n 19 mmdebstrap "${slim_opts[@]}" --include=ca-certificates,build-essential,python3 bookworm "$work/build.tar" >&2
  nice -n 19 mmdebstrap "${slim_opts[@]}" --include=ca-certificates bookworm "$work/slim.tar" >&2
  base() { # rootfs.tar name with-npm
    local c m
    c=$(buildah "${storage[@]}" from scratch)
    m=$(buildah "${storage[@]}" mount "$c")
    tar -C "$m" -xf "$1"
    install -D -m 755 "$node_bin" "$m/usr/local/bin/node"
    if [ "$3" = yes ]; then
      mkdir -p "$m/usr/local/lib/node_modules"
      cp -a "$npm_dir" "$m/usr/local/lib/node_modules/npm"
      ln -s ../lib/node_modules/npm/bin/npm-cli.js "$m/usr/local/bin/npm"
      ln -s ../lib/node_modules/npm/bin/npx-cli.js "$m/usr/local/bin/npx"
      cp "$ca" "$m/etc/ssl/certs/ca-certificates.crt"
      buildah "${storage[@]}" config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --env npm_config_update_notifier=false "$c"
    fi
    buildah "${storage[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd node "$c"
    buildah "${storage[@]}" unmount "$c" >/dev/null
    buildah "${storage[@]}" rmi -f "$2" >/dev/null 2>&1 || true
    buildah "${storage[@]}" commit -q "$c" "$2" >/dev/null
    buildah "${storage[@]}" rm "$c" >/dev/null
  }
  base "$work/build.tar" docker.io/library/node:24-bookworm yes
  base "$work/slim.tar" docker.io/library/node:24-bookworm-slim no
  rm -f "$cache"/containers/bases-*.done
  touch "$base_done"
  echo "built the stand-in bases in $((SECONDS - start)) s" >&2
fi

# ---- image
start=$SECONDS
buildah "${storage[@]}" rmi -f localhost/ferrolb:dev >/dev/null 2>&1 || true
(cd "$repo" && nice -n 19 buildah "${storage[@]}" bud --quiet --pull=never --network host --layers=false -t localhost/ferrolb:dev -f Dockerfile . >&2)
rm -f "$out.tmp"
buildah "${storage[@]}" push -q localhost/ferrolb:dev "oci-archive:$out.tmp:lab.ferrolb.io/ferrolb:dev"
buildah "${storage[@]}" rmi --prune >/dev/null 2>&1 || true
rm -f "$cache"/images/ferrolb-*.tar
mv "$out.tmp" "$out"
echo "built the ferrolb image in $((SECONDS - start)) s ($(du -h "$out" | cut -f1) archive)" >&2
echo "$out"
