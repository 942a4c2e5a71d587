#!/usr/bin/env bash
# Benchmark of calibrate --data on one MoE layer at DeepSeek-V3's hidden size (#15 item 5): a
# generated OLMoE-style layer of EXPERTS experts of [WIDTH x 7168] x 3 (default 256 of 512: 5.75
# GiB BF16, power-law spectra, top-8), 1024 random tokens; its experts do not fit the default
# --expert-memory, so every pass streams them. For each mode (--kl-budget none, the default budget,
# --kl-budget none --no-alignment): whole-process wall time, the calibration pass (from the -v
# line), peak anonymous RSS (tools/bench_rss.py), and the router's sha256; with BASELINE (an earlier
# binary) the same runs of it, interleaved, and the ratio.
#   tools/bench_wide.sh BUILD_DIR WORK [BASELINE]
#   env: EXPERTS 256, WIDTH 512
set -euo pipefail
build=$1 work=$2 baseline=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
experts=${EXPERTS:-256} width=${WIDTH:-512}
ckpt="$work/wide-$experts-$width"
data="$work/data-1024.jsonl"
mkdir -p "$work"
trap 'rm -rf "$work/out"' EXIT
[ -d "$ckpt" ] || "$build/tools/bench_make_checkpoint" "$ckpt" --hidden 7168 --layers 1 \
  --experts "$experts" --width "$width" --top-k 8 --spectrum powerlaw
[ -f "$data" ] || /usr/bin/python3 -c "
import json, random
random.seed(1)
with open('$data', 'w') as f:
    for _ in range(2):
        f.write(json.dumps({'input_ids': [random.randrange(4096) for _ in range(512)]}) + '\n')"
cat "$ckpt"/* > /dev/null  # warm page cache
once() {  # once BINARY ARGS... -> "wall_s pass_s anon_mib router"
  local bin=$1
  shift
  rm -rf "$work/out"
  local j
  j=$(/usr/bin/python3 "$here/bench_rss.py" "$bin" -v calibrate "$ckpt" --data "$data" \
    -o "$work/out" "$@" 2> "$work/err.txt")
  local pass
  pass=$(tr '\r' '\n' < "$work/err.txt" | sed -n 's/.*calibrate: 1 layers, [0-9]* tokens in \([0-9.]*\) s.*/\1/p')
  local sha
  sha=$(sha256sum "$work/out/routers/router-v1.safetensors" | cut -c1-12)
  rm -rf "$work/out"  # a copy of the whole checkpoint: 21.4 GB at WIDTH 2048
  /usr/bin/python3 -c "
import json, sys
j = json.loads(sys.argv[1])
print('%.1f %s %.0f %s' % (j['wall_s'], sys.argv[2] or '-', j['anon_peak_kib'] / 1024, sys.argv[3]))" \
    "$j" "$pass" "$sha"
}
echo "| mode | build: wall s / pass s / anon MiB / router | baseline | ratio |"
echo "|---|---|---|---|"
for mode in "--kl-budget none" "" "--kl-budget none --no-alignment"; do
  # shellcheck disable=SC2086
  read -r w p r s <<< "$(once "$build/moe-recal" $mode)"
  base="-" ratio="-"
  if [ -n "$baseline" ]; then
    # shellcheck disable=SC2086
    read -r bw bp br bs <<< "$(once "$baseline" $mode)"
    base="$bw / $bp / $br / $bs"
    ratio=$(/usr/bin/python3 -c "print('%.2fx' % ($bw / $w))")
  fi
  echo "| ${mode:-default budget} | $w / $p / $r / $s | $base | $ratio |"
done
