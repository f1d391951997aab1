#!/usr/bin/env bash
# The tutorial (../shared/seed, "로드밸런서": MetalLB on a cluster without a load
# balancer), steps #2 to #12, run for real with ferrolb in place of MetalLB: a lab of
# three real nodes (kubelet, containerd, kube-proxy; lab/README in docs/LAB.md), a
# LoadBalancer Service left <pending>, ferrolb installed with one `kubectl apply -f`, the
# tutorial's routing-config.yaml, the EXTERNAL-IP, wget from a client machine on the
# LAN, the requests spread over three pods, and the cleanup. Each step prints its
# command and output, as the tutorial shows them.
#
#   bash scripts/demo.sh           # needs root (the lab makes network namespaces)
#   bash scripts/demo.sh --keep    # leave the lab up afterwards (lab/lab down ends it)
#   bash scripts/demo.sh --plan    # offline instead: what the controller would assign
#
# The tutorial's addresses are its VirtualBox network's (10.0.0.3-254, nodes 10.0.0.10+);
# the lab's are 198.18.0.200-254 for the pool and 198.18.0.11-13 for the nodes. The
# tutorial's images (docker.io/nginx, its hostname page) cannot be pulled here; the lab's
# own image lab.ferrolb.io/hostname:1 answers with its pod's name instead.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
case "${1:-}" in
  --plan)
    shift
    [ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund --loglevel=error
    exec node_modules/.bin/node bin/ferrolb.js plan --config examples/tutorial/routing-config.yaml --services examples/tutorial/services.yaml "$@"
    ;;
  --keep) keep=true ;;
  '') ;;
  *) echo "demo: unknown option $1 (use --keep or --plan)" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: the lab needs root (it creates network namespaces and runs kubelets); run as root, or try 'bash scripts/demo.sh --plan' (offline)" >&2
  exit 1
fi

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# Prints a command the way the tutorial does, then runs it in the lab.
k() { printf '$ kubectl %s\n' "$*"; lab/lab kubectl "$@"; }
client() { printf 'client$ %s\n' "$*"; lab/lab exec client "$@"; }

say "#0 preparing this machine and starting the lab"
echo "(the first run builds Kubernetes, containerd's images and the ferrolb image from source:"
echo " about 40 minutes on 2 cores; later runs reuse the cache and take seconds)"
bash scripts/setup.sh
lab/lab up --nodes 3 --real-nodes 3 --ferrolb-image
$keep || trap 'echo; lab/lab down' EXIT
k get nodes -o wide

say "#2 a LoadBalancer Service without a load balancer"
k create deployment my-nginx --image=lab.ferrolb.io/hostname:1
k rollout status deployment/my-nginx --timeout=120s
k get pod
k expose deployment my-nginx --port 80 --type LoadBalancer
k get service
echo "# EXTERNAL-IP stays <pending>: nothing assigns one"

say "#3 remove the Service and the Deployment"
k delete deployment my-nginx
k delete service my-nginx

say "#4 strictARP (kube-proxy's ipvs mode needs it; this lab's kube-proxy runs nftables)"
printf '$ kubectl get configmap kube-proxy -n kube-system -o yaml | sed -e "s/strictARP: false/strictARP: true/" | kubectl apply -f - -n kube-system\n'
lab/lab kubectl get configmap kube-proxy -n kube-system -o yaml | sed -e "s/strictARP: false/strictARP: true/" | lab/lab kubectl apply -f - -n kube-system

say "#5 install ferrolb: one file"
k apply -f deploy/ferrolb-native.yaml
k rollout status -n metallb-system deployment/controller --timeout=180s
k rollout status -n metallb-system daemonset/speaker --timeout=180s
k get pods -n metallb-system -o wide

say "#6 the address pool and its L2 advertisement"
routing=$(mktemp --suffix=-routing-config.yaml)
sed 's/10\.0\.0\.3-10\.0\.0\.254/198.18.0.200-198.18.0.254/' examples/tutorial/routing-config.yaml > "$routing"
cat "$routing"
# The webhook answers once the controller has loaded the configuration; a pool applied
# before that is refused with "retry", never stored half-checked (docs/WEBHOOK.md).
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if out=$(lab/lab kubectl apply -f "$routing" -n metallb-system 2>&1); then break; fi
  echo "(not yet: $out; retrying)"; sleep 2
done
printf '$ kubectl apply -f routing-config.yaml -n metallb-system\n%s\n' "$out"
rm -f "$routing"
k get IPAddressPool -n metallb-system

say "#7 the Deployment and Service again: EXTERNAL-IP assigned"
k create deployment my-nginx --image=lab.ferrolb.io/hostname:1
k rollout status deployment/my-nginx --timeout=120s
k expose deployment my-nginx --port 80 --type LoadBalancer
for i in $(seq 1 30); do
  ip=$(lab/lab kubectl get service my-nginx -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [ -n "$ip" ] && break; sleep 1
done
k get service

say "#8 the EXTERNAL-IP from another machine on the LAN"
client wget -q -O - "http://$ip"

say "#9 the node's address and NodePort still work"
port=$(lab/lab kubectl get service my-nginx -o jsonpath='{.spec.ports[0].nodePort}')
client wget -q -O - "http://198.18.0.11:$port"

say "#10 a second Deployment with three replicas"
k create deployment hostname-deployment --image=lab.ferrolb.io/hostname:1 --replicas=3
k rollout status deployment/hostname-deployment --timeout=120s
k get deploy
k expose deployment hostname-deployment --port 80 --type LoadBalancer

say "#11 the next address from the pool; requests spread over the three pods"
for i in $(seq 1 30); do
  ip2=$(lab/lab kubectl get service hostname-deployment -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [ -n "$ip2" ] && break; sleep 1
done
k get service
for i in 1 2 3 4 5 6; do client wget -q -O - "http://$ip2:80"; echo; done
echo "# which node answers ARP for each address, and why:"
printf '$ ferrolb status\n'
node_modules/.bin/node bin/ferrolb.js status --kubeconfig "$(lab/lab kubeconfig admin)" || true

say "#12 clean up"
k delete service my-nginx
k delete service hostname-deployment
k delete deployment my-nginx
k delete deployment hostname-deployment
k delete -f deploy/ferrolb-native.yaml
k get all
k get namespace
