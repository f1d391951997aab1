#!/usr/bin/env bash
# Installs everything ferrolb's tests and lab need on a fresh Debian machine, and does
# nothing that is already done: Debian packages (as root), npm packages (Node 24 comes
# from the npm registry's `node` package), the lab's Go-built control plane and helm.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the lab and the network tests use.
packages=(iproute2 nftables iptables ipvsadm ipset conntrack socat openssl curl wget arping ndisc6 bird2 tcpdump procps psmisc kmod util-linux iputils-ping)
# The lab's other two BGP routers (lab up --router frr|gobgp): FRR and GoBGP.
packages+=(frr gobgpd)
# The lab's real nodes (lab up --real-nodes): the CRI runtime and CNI plugins.
packages+=(containerd runc containernetworking-plugins)
# And the ferrolb image built from the Dockerfile without a registry (lab/build-image.sh).
packages+=(buildah mmdebstrap)
# Load for the L2 soak benchmark (bench/l2-soak.ts): saturated cores, no false moves.
packages+=(stress-ng)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, from the lock file; skipped when node_modules matches it.
if [ ! -x node_modules/.bin/node ] || ! cmp -s package-lock.json node_modules/.package-lock.json.ferrolb 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.ferrolb
fi

# The packet socket addon (rebuilt only when its source changed).
bash native/build.sh

# The compiled JavaScript that bin/ferrolb.js runs (rebuilt only when a source changed).
bash scripts/build.sh

# The lab's kube-apiserver, kube-proxy, kubectl and etcd (cached by pin hash).
bash lab/build.sh >/dev/null

# The real nodes' kubelet, kube-scheduler and kube-controller-manager, and the small
# images (cached by input hash).
bash lab/build-node.sh >/dev/null
# The ferrolb image from the Dockerfile (buildah; cached by the Dockerfile's inputs).
bash lab/build-image.sh >/dev/null

# helm, for charts/ferrolb's tests and for installing the chart (cached by pin hash;
# scripts/helm-path.sh prints where it is).
bash tools/helm/build.sh >/dev/null
