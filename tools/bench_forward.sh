#!/usr/bin/env bash
# Benchmark of the forward engine on generated OLMoE-shaped checkpoints (d=1024, 64 experts of
# width 512, top-8, bf16; SPECTRUM gaussian (default) or powerlaw; not committed), as fractions of the machine's sgemm rate on
# active parameters (tools/bench_model_figures.py: projections, router, top-k experts, attention
# over the average causal context; lm_head left out, and for perplexity also with its lm_head
# product on the scored positions, column "%+lm_head"):
#   1. `perplexity` and `calibrate --data` at 4096 tokens on 8 and 16 layers: tokens/s, peak
#      anonymous RSS (tools/bench_rss.py; the file-mapped checkpoint pages are left out);
#   2. `calibrate --data` on 8 layers over CURVE token counts (default 1024 4096 16384);
#      calibrate is reported per token (one pass) and over the forward passes it runs (its own
#      target pass, the inherited model's, one per trial of the KL-budget search), and its
#      calibration pass alone (the target pass with the per-layer statistics, solves and
#      balancing searches: the time of its -v line "calibrate: L layers, T tokens in S s");
#   3. `perplexity` vs a PyTorch eager fp32 forward in the Hugging Face style
#      (tools/bench_torch_forward.py, same threads, same windows) on 8 layers at 4096 tokens,
#      whole process wall time and the PyTorch forward alone (weights load excluded).
# Each figure is the minimum of REPS runs; the sgemm rate is the best of one measurement before
# and one after (the machine may be shared: the least disturbed run counts).
#   tools/bench_forward.sh [BUILD_DIR] [WORK]
#   env: REPS 2, CAL_REPS (calibrate; REPS), CURVE, TORCH 1, SPECTRUM gaussian
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/moe-recal-bench}
reps=${REPS:-2}
here=$(cd "$(dirname "$0")" && pwd)
spectrum=${SPECTRUM:-gaussian}
mkdir -p "$work"
ckpt() { [ "$spectrum" = gaussian ] && echo "$work/olmoe-$1" || echo "$work/olmoe-$spectrum-$1"; }
for n in 8 16; do
  [ -d "$(ckpt "$n")" ] || "$build/tools/bench_make_checkpoint" "$(ckpt "$n")" --layers "$n" \
    --spectrum "$spectrum"
done
data() {  # data TOKENS -> path of a JSONL file of TOKENS random ids in 512-token records
  local f="$work/data-$1.jsonl"
  [ -f "$f" ] || /usr/bin/python3 -c "
import json, random, sys
random.seed(1)
with open('$f', 'w') as f:
    for _ in range($1 // 512):
        f.write(json.dumps({'input_ids': [random.randrange(4096) for _ in range(512)]}) + '\n')"
  echo "$f"
}
g1=$("$build/tools/bench_sgemm" 2048)
# Warm page cache: a checkpoint evicted by an earlier job would otherwise time the disk.
for n in 8 16; do cat "$(ckpt "$n")"/* > /dev/null; done
run() {  # run LAYERS TOKENS CMD -> "secs anon_rss_kib passes scored pass_secs" (min secs over REPS,
  # max RSS; pass_secs: calibrate's calibration pass alone, from its -v line, min over REPS)
  local best="" rss=0 pass_best=""
  local n_reps=$reps
  [ "$3" = calibrate ] && n_reps=${CAL_REPS:-$reps}
  for _ in $(seq "$n_reps"); do
    rm -rf "$work/out"
    local args=("$3" "$(ckpt "$1")" --data "$(data "$2")")
    [ "$3" = calibrate ] && args+=(-o "$work/out" --json)
    [ "$3" = perplexity ] && args+=(--json)
    local j s r
    local quiet=-q
    [ "$3" = calibrate ] && quiet=-v
    j=$(/usr/bin/python3 "$here/bench_rss.py" --stdout "$work/out-$3-$1-$2.txt" \
      "$build/moe-recal" "$quiet" "${args[@]}" 2> "$work/err-$3-$1-$2.txt")
    if [ "$3" = calibrate ]; then
      local p
      p=$(sed -n 's/.*calibrate: [0-9]* layers, [0-9]* tokens in \([0-9.]*\) s.*/\1/p' \
        "$work/err-$3-$1-$2.txt" | head -1)
      [ -n "$p" ] && pass_best=$(/usr/bin/python3 -c "print(min([$p, ${pass_best:-$p}]))")
    fi
    s=$(/usr/bin/python3 -c "import json; print(json.loads('$j')['wall_s'])")
    r=$(/usr/bin/python3 -c "import json; print(json.loads('$j')['anon_peak_kib'])")
    best=$(/usr/bin/python3 -c "print(min(x for x in [$s, ${best:-1e9}]))")
    rss=$((r > rss ? r : rss))
  done
  # Forward passes over the tokens: 1 for perplexity; for calibrate the target pass (which is
  # the inherited model's under a KL budget, else a separate inherited pass follows) and one per
  # trial (changelog selection).
  local passes=1
  [ "$3" = calibrate ] && passes=$(/usr/bin/python3 -c "
import json; s = json.load(open('$work/out-$3-$1-$2.txt'))['selection']
print((1 if s.get('mode') == 'kl-budget' else 2) + (s.get('trials') or 1))")
  # Positions perplexity scores: its lm_head product runs on those (calibrate never runs it).
  local scored=0
  [ "$3" = perplexity ] && scored=$(/usr/bin/python3 -c "
import json; print(json.load(open('$work/out-$3-$1-$2.txt'))['n_tokens_scored'])")
  echo "$best $rss $passes $scored ${pass_best:-0}"
}
results=()
for n in 8 16; do
  for cmd in perplexity calibrate; do results+=("$n 4096 $cmd $(run "$n" 4096 "$cmd")"); done
done
for t in ${CURVE:-1024 16384}; do results+=("8 $t calibrate $(run 8 "$t" calibrate)"); done
if [ "${TORCH:-1}" = 1 ]; then
  for _ in $(seq "$reps"); do
    /usr/bin/time -v /usr/bin/python3 "$here/bench_torch_forward.py" "$(ckpt 8)" \
      "$(data 4096)" --threads "$(nproc)" > "$work/torch.json" 2> "$work/time.txt"
    s=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}' | awk -F: '{print ($1*60)+$2}')
    f=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/torch.json'))['forward_s'])")
    results+=("8 4096 torch $s $f 1 0 0")
  done
  echo "ppl check on 8 layers, 4096 tokens: moe-recal $(cat "$work/out-perplexity-8-4096.txt")"
  echo "  PyTorch $(cat "$work/torch.json")"
fi
g2=$("$build/tools/bench_sgemm" 2048)
printf '%s\n' "${results[@]}" | /usr/bin/python3 "$here/bench_forward_report.py" "$g1" "$g2" \
  "$(/usr/bin/python3 "$here/bench_model_figures.py" "$(ckpt 8)")" \
  "$(/usr/bin/python3 "$here/bench_model_figures.py" "$(ckpt 16)")"
rm -rf "$work/out"
