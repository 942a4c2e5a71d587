#!/usr/bin/env bash
# Benchmark of calibrate --data's KL-budget search, this build against an earlier binary
# (BASELINE), run interleaved, whole-process wall time (minimum of REPS) and the trials each ran:
#   1. the bundled trained models (testdata/trained), where the default budget of 0.02 binds;
#   2. the generated OLMoE-shaped checkpoint (tools/bench_forward.sh's, powerlaw spectra) of 8
#      layers at 1024 and 4096 tokens, every layer and --layers 4-7;
#   3. 16 layers (3.2 GB) at 1024 tokens in a memory cgroup of MEMLIMIT MiB (default 1536), so
#      the checkpoint's pages cannot all stay cached between passes (its pages are dropped from
#      the page cache before each run, so the run reads them itself). Needs a writable cgroup v1
#      memory controller (/sys/fs/cgroup/memory); skipped without one.
#   tools/bench_search.sh BUILD_DIR WORK BASELINE
#   env: REPS 2, MEMLIMIT 1536, ROWS "trained bench limited" (which of 1-3 to run)
set -euo pipefail
build=$1 work=$2 baseline=$3
reps=${REPS:-2}
rows=${ROWS:-trained bench limited}
here=$(cd "$(dirname "$0")" && pwd)
trained="$here/../testdata/trained"
mkdir -p "$work"
for n in 8 16; do
  [ -d "$work/olmoe-powerlaw-$n" ] || "$build/tools/bench_make_checkpoint" \
    "$work/olmoe-powerlaw-$n" --layers "$n" --spectrum powerlaw
done
for t in 1024 4096; do
  [ -f "$work/data-$t.jsonl" ] || /usr/bin/python3 -c "
import json, random
random.seed(1)
with open('$work/data-$t.jsonl', 'w') as f:
    for _ in range($t // 512):
        f.write(json.dumps({'input_ids': [random.randrange(4096) for _ in range(512)]}) + '\n')"
done
cgroup=/sys/fs/cgroup/memory/moe-recal-bench
limited=0
if mkdir -p "$cgroup" 2>/dev/null && echo $((${MEMLIMIT:-1536} << 20)) \
  > "$cgroup/memory.limit_in_bytes" 2>/dev/null; then limited=1; fi
once() {  # once LIMIT BINARY ARGS... -> "secs trials"
  local limit=$1 bin=$2
  shift 2
  rm -rf "$work/out"
  local cmd=(/usr/bin/time -f %e -o "$work/time" "$bin" calibrate "$@" -o "$work/out" --json)
  if [ "$limit" = 1 ]; then
    # Pages cached before the run are charged to another cgroup and escape the limit: drop them.
    for f in "$1"/*; do dd if="$f" iflag=nocache count=0 status=none; done
    bash -c 'echo $$ > "$0/cgroup.procs"; exec "$@"' "$cgroup" "${cmd[@]}" > /dev/null 2>&1
  else
    "${cmd[@]}" > /dev/null 2>&1
  fi
  echo "$(cat "$work/time") $(/usr/bin/python3 -c "
import json
print(json.load(open('$work/out/router-changelog.json'))['entries'][-1]['selection']['trials'])")"
}
row() {  # row LABEL LIMIT ARGS...
  local label=$1 limit=$2 a="" b="" ta tb
  shift 2
  for _ in $(seq "$reps"); do
    read -r s ta < <(once "$limit" "$baseline" "$@")
    a=$(/usr/bin/python3 -c "print(min(x for x in [$s, ${a:-1e9}]))")
    read -r s tb < <(once "$limit" "$build/moe-recal" "$@")
    b=$(/usr/bin/python3 -c "print(min(x for x in [$s, ${b:-1e9}]))")
  done
  printf '| %s | %s s (%s trials) | %s s (%s trials) | %sx |\n' "$label" "$a" "$ta" "$b" "$tb" \
    "$(/usr/bin/python3 -c "print(f'{$a / $b:.2f}')")"
}
echo "| calibrate --data | baseline | this build | ratio |"
echo "|---|---|---|---|"
case " $rows " in *" trained "*)
  for m in trained-olmoe trained-qwen3-moe; do
    row "$m, default" 0 "$trained/$m" --data "$trained/calibration.jsonl"
  done ;;
esac
case " $rows " in *" bench "*)
  for t in 1024 4096; do
    row "8 layers, $t tokens" 0 "$work/olmoe-powerlaw-8" --data "$work/data-$t.jsonl"
    row "8 layers, $t tokens, --layers 4-7" 0 "$work/olmoe-powerlaw-8" \
      --data "$work/data-$t.jsonl" --layers 4-7
  done
  row "16 layers, 1024 tokens" 0 "$work/olmoe-powerlaw-16" --data "$work/data-1024.jsonl" ;;
esac
case " $rows " in *" limited "*) ;; *) exit 0 ;; esac
if [ "$limited" = 1 ]; then
  row "16 layers, 1024 tokens, ${MEMLIMIT:-1536} MiB cgroup" 1 "$work/olmoe-powerlaw-16" \
    --data "$work/data-1024.jsonl"
else
  echo "(no writable cgroup v1 memory controller: the memory-limited row is skipped)"
fi
