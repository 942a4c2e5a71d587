#!/bin/sh
# Runs every libFuzzer harness of a -DMOE_RECAL_FUZZ=ON build for SECONDS each, one after another
# on one core, each on a scratch corpus seeded from tests/fuzz/corpus/<name>, and prints one line
# per harness: executions, exec/s, coverage (cov: edges, ft: features), corpus size, crashes.
# Findings (crash-*, leak-*, timeout-*, oom-*) land in OUTDIR/<name>/artifacts/.
# FUZZ_RUNS=N also stops a harness after N executions (the issue's campaign: FUZZ_RUNS=10000000
# with SECONDS=3600, whichever comes first).
# Usage: [FUZZ_RUNS=N] tools/fuzz_all.sh BUILD_DIR SECONDS OUTDIR [name...]
set -eu
build=$1 seconds=$2 out=$3
shift 3
src=$(cd "$(dirname "$0")/.." && pwd)
names=${*:-safetensors index config tokenizer data gate changelog}
for n in $names; do
  mkdir -p "$out/$n/corpus" "$out/$n/artifacts"
  dict=""
  [ -f "$src/tests/fuzz/dict/$n.dict" ] && dict="-dict=$src/tests/fuzz/dict/$n.dict"
  "$build/tests/fuzz/fuzz_$n" -max_total_time="$seconds" -runs="${FUZZ_RUNS:--1}" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/$n/artifacts/" $dict \
    "$out/$n/corpus" "$src/tests/fuzz/corpus/$n" > "$out/$n/log.txt" 2>&1 || true
  last=$(grep -E '^#[0-9]+' "$out/$n/log.txt" | tail -1)
  execs=$(grep -E '^stat::number_of_executed_units' "$out/$n/log.txt" | awk '{print $2}')
  rate=$(grep -E '^stat::average_exec_per_sec' "$out/$n/log.txt" | awk '{print $2}')
  cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
  ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | awk '{print $2}')
  corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | awk '{print $2}')
  crashes=$(ls "$out/$n/artifacts" | wc -l)
  took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$out/$n/log.txt" | awk '{print $5}')
  echo "$n: ${execs:-?} execs in ${took:-$seconds}s (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}," \
       "corpus ${corp:-?}, findings $crashes"
done
