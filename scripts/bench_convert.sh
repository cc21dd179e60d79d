#!/usr/bin/env bash
# Conversion throughput, as docs/benchmarks.md "## Conversion" reports it: converts HF_DIR with
# each RECIPE (page cache dropped first when run as root), samples the converter's RssAnon every
# 0.2 s and takes its CPU time (user + system) from /usr/bin/time, then prints input MB/s by wall
# clock and per CPU-second, with the load average before and after. Each output is deleted once
# measured (the disk holds one at a time).
# Usage: scripts/bench_convert.sh HF_DIR OUT_DIR [RECIPE...]   (default recipes: q4 q8)
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 HF_DIR OUT_DIR [RECIPE...]" >&2
  exit 2
fi
hf=$1 out=$2
shift 2
recipes=("$@")
[[ $# -eq 0 ]] && recipes=(q4 q8)
dsmoe=${DSMOE:-$(dirname "$0")/../build/bin/dsmoe}
input_bytes=$(du -cb "$hf"/*.safetensors | tail -1 | cut -f1)
ticks=$(getconf CLK_TCK)
times=$(mktemp)
trap 'rm -f "$times"' EXIT
for recipe in "${recipes[@]}"; do
  sync
  if [[ $(id -u) -eq 0 ]]; then echo 3 > /proc/sys/vm/drop_caches; fi
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -o "$times" -f "%e %U %S" \
    "$dsmoe" convert "$hf" -o "$out/bench-$recipe.dsmoe" --quant "$recipe" --force >/dev/null 2>&1 &
  timer=$!
  peak_kb=0
  while kill -0 "$timer" 2>/dev/null; do
    pid=$(pgrep -P "$timer" || true)
    rss=$( [[ -n $pid ]] && awk '/RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    (( ${rss:-0} > peak_kb )) && peak_kb=$rss
    sleep 0.2
  done
  wait "$timer"
  read -r wall user sys < "$times"
  out_bytes=$(stat -c %s "$out/bench-$recipe.dsmoe")
  awk -v r="$recipe" -v in_b="$input_bytes" -v out_b="$out_bytes" -v w="$wall" -v u="$user" \
      -v s="$sys" -v rss="$peak_kb" -v l0="$load_before" -v l1="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
    printf "%s: input %.2f GB, output %.2f GB, wall %.1f s, CPU %.1f s (user %.1f + sys %.1f): " \
           "%.0f MB/s wall, %.0f MB/s per CPU-second; peak RssAnon %.0f MB; load %s -> %s\n",
           r, in_b / 1e9, out_b / 1e9, w, u + s, u, s, in_b / w / 1e6, in_b / (u + s) / 1e6,
           rss / 1024, l0, l1
  }'
  rm -f "$out/bench-$recipe.dsmoe"
done
