#!/usr/bin/env bash
# Interleaved A/B comparison of two commits: builds desilo at each, then
# runs a fresh sync followed by a second sync (no source change) with each
# binary in turn, N rounds, on the same generated data, and prints the
# median of every figure per binary. This machine's speed drifts by 30-40%
# within minutes, so only runs interleaved like this compare two versions;
# single runs of bench/run.sh do not.
#
#   bench/ab.sh REV_A REV_B            # 4 rounds, 250,000 people (1 M records)
#   N=6 PEOPLE=100000 bench/ab.sh main HEAD~3
#
# WORK (default a temporary directory, removed unless KEEP=1) holds the
# binaries and the data; data already generated there with the same PEOPLE
# and SEED is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
  echo "usage: bench/ab.sh REV_A REV_B" >&2
  exit 2
fi
N=${N:-4}
PEOPLE=${PEOPLE:-250000}
SEED=${SEED:-1}
WORK=${WORK:-$(mktemp -d)}
if [ -z "${KEEP:-}" ]; then
  trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

build() { # build REV NAME
  local tree="$WORK/tree-$2"
  rm -rf "$tree"
  git worktree add -q --detach "$tree" "$1"
  (cd "$tree" && go build -o "$WORK/desilo-$2" ./cmd/desilo)
  git worktree remove --force "$tree"
}
echo "building $1 (A) and $2 (B)"
build "$1" A
build "$2" B

data="$WORK/data-$PEOPLE-$SEED"
if [ ! -f "$data/desilo.yaml" ]; then
  echo "generating $PEOPLE people"
  rm -rf "$data"
  "$WORK/desilo-A" gen --people "$PEOPLE" --seed "$SEED" --out "$data" >/dev/null
fi

results="$WORK/ab.tsv"
: >"$results"
cd "$data"
for round in $(seq 1 "$N"); do
  for v in A B; do
    rm -rf .desilo out
    for run in 1 2; do
      /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$WORK/desilo-$v" sync -c desilo.yaml \
        --log-format json --summary-json "$WORK/summary.json" >/dev/null 2>&1
      python3 - "$v" "$run" "$WORK/time" "$WORK/summary.json" >>"$results" <<'PY'
import json, sys
v, run, tf, sf = sys.argv[1:]
wall, user, sys_, rss = open(tf).read().split()
s = json.load(open(sf))
fig = {"wall": float(wall), "cpu": float(user) + float(sys_), "rss_mb": int(rss) / 1024,
       "extract": max(x["duration"] for x in s["sources"])}
for st in s["build"]["stages"]:
    fig[st["stage"]] = st["duration"]
for k, x in fig.items():
    print(f"{v}\t{run}\t{k}\t{x}")
PY
    done
    echo "round $round, $v done" >&2
  done
done

python3 - "$results" "$1" "$2" "$N" <<'PY'
import statistics, sys
path, a, b, n = sys.argv[1:]
vals = {}
order = []
for line in open(path):
    v, run, k, x = line.rstrip("\n").split("\t")
    key = (run, k)
    if key not in order:
        order.append(key)
    vals.setdefault((v, run, k), []).append(float(x))
print(f"\nmedians of {n} interleaved rounds; A = {a}, B = {b}\n")
print("| sync | figure | A | B | B/A |")
print("| --- | --- | --- | --- | --- |")
for run, k in order:
    ma, mb = statistics.median(vals[("A", run, k)]), statistics.median(vals[("B", run, k)])
    unit = " MB" if k == "rss_mb" else " s"
    ratio = f"{mb / ma:.2f}" if ma else "-"
    print(f"| {'first' if run == '1' else 'second'} | {k} | {ma:.2f}{unit} | {mb:.2f}{unit} | {ratio} |")
PY
