#!/usr/bin/env bash
# Benchmark of the calibration pass (the layer-wise forward engine) on a generated OLMoE-shaped
# checkpoint (d=1024, 64 experts of width 512, top-8, bf16; not committed): tokens/s of
# `perplexity` and of `calibrate --data`, that rate as a fraction of the machine's sgemm FLOP rate
# on active parameters, and peak RSS for 8 and 16 layers.
#   tools/bench_forward.sh [BUILD_DIR] [WORK]      (env: TOKENS, default 4096)
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/moe-recal-bench}
tokens=${TOKENS:-4096}
mkdir -p "$work"
for n in 8 16; do
  [ -d "$work/olmoe-$n" ] || "$build/tools/bench_make_checkpoint" "$work/olmoe-$n" --layers "$n"
done
python3 - "$work/data.jsonl" "$tokens" <<'PY'
import json, random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[2]) // 512):
        f.write(json.dumps({"input_ids": [random.randrange(4096) for _ in range(512)]}) + "\n")
PY
gflops=$("$build/tools/bench_sgemm" 2048)
echo "sgemm 2048^3: $gflops GFLOP/s"
# Active FLOPs per token per layer: q,k,v,o (4 d^2) + router (E d) + k experts (3 d m), x2 for
# multiply-add; attention scores and values over a 512 window average 2 * 2 * 256 * d.
flops_tok=$(python3 -c "d,E,m,k=1024,64,512,8; print(2*(4*d*d+E*d+k*3*d*m)+4*256*d)")
for n in 8 16; do
  for cmd in perplexity calibrate; do
    rm -rf "$work/out"
    args=("$cmd" "$work/olmoe-$n" --data "$work/data.jsonl")
    [ "$cmd" = calibrate ] && args+=(-o "$work/out")
    /usr/bin/time -v "$build/moe-recal" -q "${args[@]}" > /dev/null 2> "$work/time.txt"
    secs=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}' | awk -F: '{print ($1*60)+$2}')
    rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
    python3 -c "
n,secs,tok,fl,g,rss=$n,$secs,$tokens,$flops_tok,$gflops,$rss
rate=tok/secs; frac=rate*fl*n/(g*1e9)
print(f'{\"$cmd\":10s} layers {n:2d}: {secs:7.2f} s, {rate:8.0f} tok/s, {100*frac:5.1f}% of sgemm rate, peak RSS {rss/1024:.0f} MiB')"
  done
done
rm -rf "$work/out"
