#!/usr/bin/env bash
# Tokenizer throughput, moe-recal (C++) against the JavaScript reference (@lenml/tokenizers), on
# the same text in the same run: a few MB of real text found on any Debian machine (the Python
# standard library's sources: prose in docstrings and comments, code, whitespace runs, digits)
# plus the multilingual conformance corpus, cut into 2 KB JSONL "text" records.
#   tools/bench_tokenizer.sh [BUILD_DIR] [MB]     (default build, 4 MB)
# Needs the npm packages the conformance test installs (it runs the install if missing).
set -euo pipefail
build=${1:-build}
mb=${2:-4}
tools=$(cd "$(dirname "$0")" && pwd)
work=$build/tokenizer-conformance
[ -d "$work/node_modules/@lenml/tokenizers" ] ||
  "$tools/tokenizer_conformance.sh" "$build/moe-recal" "$work" >/dev/null
data=$work/bench-$mb.jsonl
python3 - "$data" "$mb" "$tools/../testdata/tokenizer/corpus.jsonl" <<'PY'
import glob, json, sys, sysconfig
out, mb, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = "".join(json.loads(l)["text"] + "\n" for l in open(corpus, encoding="utf-8")) * 20
for f in sorted(glob.glob(sysconfig.get_paths()["stdlib"] + "/**/*.py", recursive=True)):
    if len(text.encode()) > mb << 20:
        break
    text += open(f, encoding="utf-8", errors="replace").read()
text = text[: mb << 20]
with open(out, "w", encoding="utf-8") as o:
    for i in range(0, len(text), 2048):
        o.write(json.dumps({"text": text[i : i + 2048]}, ensure_ascii=False) + "\n")
PY
echo "data: $(du -h "$data" | cut -f1) of JSONL text records"
printf "%-8s %-44s %-44s %s\n" tokenizer "moe-recal (C++)" "JavaScript (@lenml/tokenizers)" speedup
for n in qwen3 llama2 gpt2 llama3 gemma; do
  tok=$work/node_modules/@lenml/tokenizer-$n/models
  cpp=$("$build/tools/bench_tokenizer" "$tok" "$data")
  js=$(node "$tools/tokenizer_reference.mjs" --node-modules "$work" --tokenizer "$tok" "$data" \
    --bench 2>/dev/null)
  speedup=$(awk -v a="${cpp##* }" -v b="${js##* }" 'BEGIN { printf "%.1fx", a / b }')
  printf "%-8s %-44s %-44s %s\n" "$n" "$cpp" "$js" "$speedup"
done
