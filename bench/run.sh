#!/usr/bin/env bash
# The end-to-end benchmark: generate PEOPLE people with `desilo gen`, run
# `desilo sync` on them through real connector plugin processes, and report
# records per second, wall time per stage, peak RSS, output sizes and match
# quality, with the machine's description. Profiles (CPU, heap) of the
# desilo process are kept next to the results.
#
#   bench/run.sh                 # 1,000,000 people (~4.2 M source records)
#   PEOPLE=100000 bench/run.sh   # a quicker run
#
# Results go to bench/results/<date>-<people>/ (summary.json, eval.json,
# sync.log, time.txt, cpu.pprof, heap.pprof, cores.json (cores busy per
# stage, see bench/cores.py); summary2.json, sync2.log and
# time2.txt for the second sync; report.md); the data to $WORK (default a
# temporary directory, removed at the end unless KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=${PEOPLE:-1000000}
SEED=${SEED:-1}
WORK=${WORK:-$(mktemp -d)}
OUT=bench/results/$(date -u +%Y%m%dT%H%M%SZ)-$PEOPLE
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BIN="$WORK/desilo"

echo "building desilo"
go build -o "$BIN" ./cmd/desilo

echo "generating $PEOPLE people in $WORK/data"
# A fresh directory: a kept WORK's staging and snapshots would make the
# first sync an incremental one.
rm -rf "$WORK/data"
gen_start=$(date +%s.%N)
"$BIN" gen --people "$PEOPLE" --seed "$SEED" --out "$WORK/data" >"$OUT/gen.txt"
gen_end=$(date +%s.%N)

echo "syncing"
CORES=$(pwd)/bench/cores.py
cd "$WORK/data"
# cores.py keeps the log and samples how busy the cores are per stage.
python3 "$CORES" "$OUT/sync.log" "$OUT/cores.json" -- \
  /usr/bin/time -v -o "$OUT/time.txt" "$BIN" sync -c desilo.yaml \
  --log-format json --summary-json "$OUT/summary.json" \
  --cpuprofile "$OUT/cpu.pprof" --memprofile "$OUT/heap.pprof"
"$BIN" eval -c desilo.yaml --truth truth.csv --json >"$OUT/eval.json"
# A nightly run's shape: sync again with no source change. The build now
# also reads the previous snapshot's identity links (merges, stable ids).
echo "syncing again (no source change)"
/usr/bin/time -v -o "$OUT/time2.txt" "$BIN" sync -c desilo.yaml \
  --log-format json --summary-json "$OUT/summary2.json" 2>"$OUT/sync2.log"
du -sb out/current/ >"$OUT/output-size.txt"
du -sb .desilo/ >"$OUT/staging-size.txt"
cd - >/dev/null

python3 - "$OUT" "$PEOPLE" "$gen_start" "$gen_end" <<'PY'
import json, os, platform, re, subprocess, sys
out, people, g0, g1 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = json.load(open(f"{out}/summary.json"))
e = json.load(open(f"{out}/eval.json"))
t = open(f"{out}/time.txt").read()
def timing(text):
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text).group(1)
    parts = [float(p) for p in wall.split(":")]
    cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
    return rss, sum(p * 60 ** i for i, p in enumerate(reversed(parts))), cpu
rss_kb, secs, cpu_s = timing(t)
s2 = json.load(open(f"{out}/summary2.json"))
rss2_kb, secs2, cpu2_s = timing(open(f"{out}/time2.txt").read())
records = sum(src["records"] for src in s["sources"])
extract = max(src["duration"] for src in s["sources"])
cpu = open("/proc/cpuinfo").read()
model = re.search(r"model name\s*:\s*(.*)", cpu).group(1)
mem_gb = int(re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read()).group(1)) / 2**20
size = lambda f: int(open(f"{out}/{f}").read().split()[0]) / 2**20
lines = [
    f"# desilo end-to-end benchmark: {people:,} people",
    "",
    f"Machine: {os.cpu_count()} cores ({model}), {mem_gb:.0f} GiB, {platform.system()} {platform.machine()}, "
    + subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip(),
    "",
    "| measure | value |",
    "| --- | --- |",
    f"| generate ({people:,} people) | {g1 - g0:.1f} s |",
    f"| source records | {records:,} |",
    f"| sync wall time | {secs:.1f} s |",
    f"| records per second, end to end | {records / secs:,.0f} |",
    f"| CPU time (user + system, connector processes included) | {cpu_s:.1f} s ({cpu_s / records * 1e6:.1f} µs per record) |",
    f"| peak RSS | {rss_kb / 2**20:.2f} GiB ({rss_kb * 1024 / records:,.0f} bytes per source record) |",
    f"| extract (slowest source, sources run in parallel) | {extract:.1f} s |",
]
for st in s["build"]["stages"]:
    lines.append(f"| build: {st['stage']} | {st['duration']:.1f} s |")
busy = json.load(open(f"{out}/cores.json"))
lines.append("| cores busy (CPU ÷ wall, plugins included): "
             + ", ".join(busy) + " | " + " / ".join(f"{b['cores_busy']:.1f}" for b in busy.values()) + " |")
lines += [
    f"| customers | {s['build']['customers']:,} |",
    f"| Parquet output | {size('output-size.txt'):,.0f} MiB |",
    f"| staging | {size('staging-size.txt'):,.0f} MiB |",
    f"| precision / recall / F1 | {e['precision']:.4f} / {e['recall']:.4f} / {e['f1']:.4f} |",
]
for src in s["sources"]:
    lines.append(f"| source {src['name']} | {src['records']:,} records in {src['duration']:.1f} s |")
lines += [
    f"| second sync (no source change): wall time | {secs2:.1f} s ({records / secs2:,.0f} records per second) |",
    f"| second sync: peak RSS | {rss2_kb / 2**20:.2f} GiB ({rss2_kb * 1024 / records:,.0f} bytes per source record) |",
    f"| second sync: CPU time | {cpu2_s:.1f} s |",
    f"| second sync: extract (slowest source) | {max(src['duration'] for src in s2['sources']):.1f} s |",
]
for st in s2["build"]["stages"]:
    lines.append(f"| second sync: build: {st['stage']} | {st['duration']:.1f} s |")
open(f"{out}/report.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "results: $OUT"
if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
