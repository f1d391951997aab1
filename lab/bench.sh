#!/usr/bin/env bash
# Prints the lab's figures for docs/BENCHMARKS.md: warm `lab/build.sh` (a cache hit),
# then RUNS (default 5) rounds of `lab up --nodes NODES --real-nodes REAL` and `lab down`,
# as root. REAL defaults to NODES (every node real, `up`'s default); REAL=0 for the
# agent's played nodes.
# The cold build time is printed by lab/build.sh itself on a new machine ("built X in N s").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runs=${RUNS:-5}
nodes=${NODES:-3}
real=${REAL:-$nodes}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

"$here/lab" down >/dev/null
t0=$(now); "$here/build.sh" >/dev/null; t1=$(now)
echo "warm build.sh (cache hit): $(secs "$t0" "$t1") s"
ups=(); downs=()
for ((i = 1; i <= runs; i++)); do
  t0=$(now); "$here/lab" up --nodes "$nodes" --real-nodes "$real" >/dev/null; t1=$(now)
  "$here/lab" down >/dev/null; t2=$(now)
  ups+=("$(secs "$t0" "$t1")"); downs+=("$(secs "$t1" "$t2")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "lab up --nodes $nodes --real-nodes $real, $runs runs: ${ups[*]} s; median $(median "${ups[@]}") s"
echo "lab down, $runs runs: ${downs[*]} s; median $(median "${downs[@]}") s"
