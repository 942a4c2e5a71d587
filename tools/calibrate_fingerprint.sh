#!/usr/bin/env bash
# sha256 of every file calibrate writes, for every bundled fixture and the main method variants,
# so a refactoring can show that its outputs are byte-identical to those of an earlier commit:
#   tools/calibrate_fingerprint.sh BUILD_DIR > before.txt   (on the old commit)
#   tools/calibrate_fingerprint.sh BUILD_DIR > after.txt && diff before.txt after.txt
# The changelog's created_utc, the output path and the binary's path (in the changelog and the
# eval reports) are the only run-dependent fields; they are blanked before hashing (the rest is
# hashed as written).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$top"

variants=(
  "default|"
  "converge|--steps converge"
  "steps3-keep|--steps 3 --radius keep"
  "stiefel|--retraction stiefel --steps 2"
  "down|--expert-matrix down --steps converge"
  "data|--data testdata/calibration.jsonl"
  "data-converge|--data testdata/calibration.jsonl --steps converge --shrinkage 0.3"
  "data-weights-layers|--data testdata/calibration.jsonl --direction activations --layers 0"
  "data-eval|--data testdata/calibration.jsonl --eval-data testdata/calibration.jsonl --gate kl.mean<=1"
)
fixtures=(testdata/tiny-mixtral testdata/tiny-olmoe testdata/tiny-qwen2-moe testdata/tiny-qwen3-moe
          testdata/hf/hf-mixtral testdata/hf/hf-olmoe testdata/hf/hf-qwen2-moe testdata/hf/hf-qwen3-moe)

# The families with a bias of their own (DeepSeek-V3 lineage with and without expert groups,
# gpt-oss), with and without its refit (the balancing searches over each kind of routing rule).
bias_fixtures=(testdata/tiny-deepseek-v3 testdata/tiny-deepseek-v3-fp8 testdata/tiny-kimi-k2
               testdata/tiny-glm4-moe testdata/tiny-gpt-oss testdata/tiny-gpt-oss-mxfp4)
bias_variants=(
  "data|--data testdata/calibration.jsonl"
  "data-refit|--data testdata/calibration.jsonl --refit-bias"
)

fingerprint() {  # fingerprint FIXTURE NAME ARGS
  local fx=$1 name=$2 args=$3 out="$work/out"
  rm -rf "$out"
  # shellcheck disable=SC2086
  if ! "$build/moe-recal" -q --threads 2 calibrate "$fx" -o "$out" $args >/dev/null 2>"$work/err"; then
    echo "$fx $name: exit $? $(head -c 200 "$work/err")"
    return
  fi
  (cd "$out" && find . -type f | LC_ALL=C sort | while read -r f; do
    case "$f" in
      *router-changelog.json|*ROUTER_CHANGELOG.md|*eval-report.json|*eval-report.md|*eval-report.html)
        sed -e 's/[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]*Z/UTC/g' -e "s#$out#OUT#g" -e "s#$build#BUILD#g" "$f" |
          sha256sum | sed "s#-#$f#" ;;
      *) sha256sum "$f" ;;
    esac
  done) | sed "s#^#$fx $name #"
}

for fx in "${fixtures[@]}"; do
  for v in "${variants[@]}"; do fingerprint "$fx" "${v%%|*}" "${v#*|}"; done
done
for fx in "${bias_fixtures[@]}"; do
  for v in "${bias_variants[@]}"; do fingerprint "$fx" "${v%%|*}" "${v#*|}"; done
done
