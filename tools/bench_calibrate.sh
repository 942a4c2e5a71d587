#!/usr/bin/env bash
# Benchmark: data-free `moe-recal calibrate` vs `cp -r` of the same checkpoint, and peak RSS at
# two checkpoint sizes. Generates the checkpoints (not committed) under WORK (default /tmp).
#   tools/bench_calibrate.sh [BUILD_DIR] [WORK]
# Needs hyperfine and GNU time (/usr/bin/time) from Debian.
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/moe-recal-bench}
small_layers=${SMALL_LAYERS:-5}
big_layers=${BIG_LAYERS:-10}
mkdir -p "$work"
for n in "$small_layers" "$big_layers"; do
  [ -d "$work/olmoe-$n" ] || "$build/tools/bench_make_checkpoint" "$work/olmoe-$n" --layers "$n"
done
big="$work/olmoe-$big_layers"
du -sh "$work"/olmoe-*
echo "== time: cp -r vs calibrate (warm page cache, $big) =="
hyperfine --warmup 1 --runs "${RUNS:-3}" --export-json "$work/hyperfine.json" \
  --prepare "rm -rf $work/out-cp $work/out-cal" \
  "cp -r $big $work/out-cp" \
  "$build/moe-recal -q calibrate $big -o $work/out-cal"
python3 - "$work/hyperfine.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
cp, cal = r[0]["median"], r[1]["median"]
print(f"cp -r median {cp:.3f} s, calibrate median {cal:.3f} s, ratio calibrate/cp = {cal/cp:.2f}")
PY
echo "== peak RSS by checkpoint size =="
for n in "$small_layers" "$big_layers"; do
  rm -rf "$work/out-rss"
  /usr/bin/time -v "$build/moe-recal" -q calibrate "$work/olmoe-$n" -o "$work/out-rss" 2> "$work/time-$n.txt"
  rss=$(grep "Maximum resident set size" "$work/time-$n.txt" | awk '{print $NF}')
  size=$(du -sk "$work/olmoe-$n" | cut -f1)
  echo "layers $n: checkpoint $((size / 1024)) MiB, peak RSS $((rss / 1024)) MiB"
done
rm -rf "$work/out-cp" "$work/out-cal" "$work/out-rss"
