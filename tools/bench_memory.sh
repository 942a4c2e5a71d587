#!/usr/bin/env bash
# Memory benchmark of `calibrate --data` on quantised checkpoints (issues #13, #14): peak RSS
# (ru_maxrss, as /usr/bin/time -v reports it, and its anonymous and file-mapped parts sampled by
# tools/bench_rss.py) on a generated DeepSeek-V3-shaped FP8 checkpoint and a gpt-oss-120b-shaped
# MXFP4 layer stack, each at two layer counts (flat = bounded by a layer, not the model), with the
# default --expert-memory (4096 MiB: a layer's widened experts kept when they fit) and a small one
# (the layer's experts streamed), next to the bound
#   one layer's non-expert weights in f32 + the expert window + embeddings/lm_head in f32
# where the expert window is the layer's experts in f32 when they fit --expert-memory, else one
# expert in f32 per worker thread (tools/bench_model_figures.py computes each term from the
# headers); anon-bnd is the anonymous peak minus that bound (activations, buffers, the runtime).
# Also tokens/s and that rate as a fraction of the sgemm rate on active parameters.
# Generates the checkpoints (not committed) under WORK.
#   tools/bench_memory.sh [BUILD_DIR] [WORK]     (env: TOKENS default 4096, STREAM_MIB default 256)
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/moe-recal-bench}
tokens=${TOKENS:-4096}
stream_mib=${STREAM_MIB:-256}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
gen() {  # gen NAME FAMILY LAYERS
  [ -d "$work/$1" ] || "$build/tools/bench_make_checkpoint" "$work/$1" --family "$2" \
    --layers "$3" --spectrum powerlaw > /dev/null
}
gen ds-3 deepseek_v3 3
gen ds-5 deepseek_v3 5
gen oss-2 gpt_oss 2
gen oss-4 gpt_oss 4
/usr/bin/python3 - "$work/data.jsonl" "$tokens" <<'PY'
import json, random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[2]) // 512):
        f.write(json.dumps({"input_ids": [random.randrange(4096) for _ in range(512)]}) + "\n")
PY
gflops=$("$build/tools/bench_sgemm" 2048)
workers=$(nproc)
echo "sgemm 2048^3: $gflops GFLOP/s; $tokens tokens; $workers worker threads"
printf '%-6s %7s %8s %8s %8s %8s %8s %8s %8s %6s %7s %6s\n' model exp-mem "ckpt MiB" \
  "RSS MiB" "anon MiB" "file MiB" "bnd MiB" "win MiB" "anon-bnd" "secs" "tok/s" "%sgemm"
for m in ds-3 ds-5 oss-2 oss-4; do
  for em in 4096 "$stream_mib"; do
    rm -rf "$work/out-mem"
    r=$(/usr/bin/python3 "$here/bench_rss.py" "$build/moe-recal" -q --expert-memory "$em" \
      calibrate "$work/$m" --data "$work/data.jsonl" -o "$work/out-mem")
    size=$(du -sk "$work/$m" | cut -f1)
    /usr/bin/python3 - "$m" "$em" "$size" "$r" "$tokens" "$gflops" "$workers" \
      "$(/usr/bin/python3 "$here/bench_model_figures.py" "$work/$m")" <<'PY'
import json, sys
m, em, size, r, tok, g, workers, fig = sys.argv[1:]
f, r = json.loads(fig), json.loads(r)
assert r["rc"] == 0, r
em, tok, g, M = int(em) << 20, int(tok), float(g), 1 << 20
window = f["layer_experts_f32"] if f["layer_experts_f32"] <= em else int(workers) * f["expert_f32"]
bound = f["layer_nonexpert_f32"] + window + f["global_f32"]
rate = tok / r["wall_s"]
frac = rate * f["flops_per_token"] / (g * 1e9)
rss, anon, file = (r[k] << 10 for k in ("maxrss_kib", "anon_peak_kib", "file_peak_kib"))
print(f"{m:6s} {em // M:7d} {int(size) // 1024:8d} {rss / M:8.0f} {anon / M:8.0f} {file / M:8.0f} "
      f"{bound / M:8.0f} {window / M:8.0f} {(anon - bound) / M:8.0f} {r['wall_s']:6.1f} {rate:7.0f} "
      f"{100 * frac:5.1f}%")
PY
  done
done
rm -rf "$work/out-mem"
