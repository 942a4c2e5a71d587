#!/usr/bin/env bash
# Benchmark of data-free `moe-recal calibrate` (issue #15): default options and --steps converge
# against `cp -r SRC DST && sync` (the tool fsyncs its output, so the baseline syncs too) and plain
# `cp -r`, on a generated OLMoE-shaped checkpoint (d=1024, 64 experts of width 512, bf16; 16
# layers = 3.3 GB) with SPECTRUM powerlaw (realistic, the default) or gaussian. All four commands
# run in one hyperfine invocation (each command's runs back to back) and each ratio uses the
# minimum over RUNS (the least disturbed run on a shared machine). Warm page cache: the source is
# read once first. Also optional peak RSS at two sizes (RSS_LAYERS="8 16").
#   tools/bench_calibrate.sh [BUILD_DIR] [WORK]
#   env: SPECTRUM (powerlaw|gaussian), LAYERS (16), RUNS (3), RSS_LAYERS (empty: skipped),
#        BASELINE (another moe-recal binary, e.g. an earlier commit's: its default run is timed
#        in the same hyperfine invocation)
# Needs hyperfine and GNU time (tools/install-deps.sh --bench).
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/moe-recal-bench}
spectrum=${SPECTRUM:-powerlaw}
layers=${LAYERS:-16}
mkdir -p "$work"
ckpt() { echo "$work/olmoe-$spectrum-$1"; }
for n in "$layers" ${RSS_LAYERS:-}; do
  [ -d "$(ckpt "$n")" ] || "$build/tools/bench_make_checkpoint" "$(ckpt "$n")" --layers "$n" \
    --spectrum "$spectrum"
done
src=$(ckpt "$layers")
du -sh "$src"
cal="$build/moe-recal -q calibrate $src -o $work/out-cal"
cat "$src"/* > /dev/null  # warm page cache
hyperfine --runs "${RUNS:-3}" --export-json "$work/hyperfine-calibrate.json" \
  --prepare "rm -rf $work/out-cp $work/out-cal; sync" \
  "cp -r $src $work/out-cp && sync" \
  "cp -r $src $work/out-cp" \
  "$cal" \
  "$cal --steps converge" \
  "$cal --no-alignment" \
  ${BASELINE:+"$BASELINE -q calibrate $src -o $work/out-cal"}
/usr/bin/python3 - "$work/hyperfine-calibrate.json" "$spectrum" <<'PY'
import json, sys
r = [min(x["times"]) for x in json.load(open(sys.argv[1]))["results"]]
cps, cp, cal, conv, noal = r[:5]
print(f"{sys.argv[2]}: min seconds: cp -r && sync {cps:.2f}, cp -r {cp:.2f}, calibrate {cal:.2f}, "
      f"calibrate --steps converge {conv:.2f}, calibrate --no-alignment {noal:.2f}")
print(f"calibrate / (cp -r && sync) = {cal / cps:.2f}x (target <= 1.5x); calibrate / cp -r = "
      f"{cal / cp:.2f}x; converge / (cp -r && sync) = {conv / cps:.2f}x (target <= 4x); "
      f"converge / default = {conv / cal:.2f}x; --no-alignment / (cp -r && sync) = "
      f"{noal / cps:.2f}x")
if len(r) > 5:
    print(f"baseline binary's default run {r[5]:.2f} s: {r[5] / cal:.2f}x this build's")
PY
for n in ${RSS_LAYERS:-}; do
  rm -rf "$work/out-rss"
  /usr/bin/time -v "$build/moe-recal" -q calibrate "$(ckpt "$n")" -o "$work/out-rss" 2> "$work/time-$n.txt"
  rss=$(grep "Maximum resident set size" "$work/time-$n.txt" | awk '{print $NF}')
  size=$(du -sk "$(ckpt "$n")" | cut -f1)
  echo "layers $n: checkpoint $((size / 1024)) MiB, peak RSS $((rss / 1024)) MiB"
done
rm -rf "$work/out-cp" "$work/out-cal" "$work/out-rss"
