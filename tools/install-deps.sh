#!/usr/bin/env bash
# Installs moe-recal's build and test dependencies from Debian packages. Idempotent: packages
# already installed are left alone; apt-get update runs before anything is installed.
set -euo pipefail

packages=(
  cmake make g++ pkg-config
  nlohmann-json3-dev libcli11-dev doctest-dev
  libopenblas-dev liblapack-dev
  libpcre2-dev libutf8proc-dev   # tokenizer: split patterns, Unicode normalization
  python3 python3-numpy   # fixture generator and reference scripts in tools/
  chromium python3-pil fonts-dejavu-core   # HTML eval report checked in a headless browser
  clang-14 libclang-rt-14-dev   # libFuzzer harnesses (tests/fuzz), run briefly by .ci/run
)
# --bench: also what the benchmarks need (hyperfine, GNU time for peak RSS, python3-torch for the
# PyTorch eager baseline of tools/bench_torch_forward.py).
if [ "${1:-}" = "--bench" ]; then
  packages+=(hyperfine time python3-torch)
fi
# The tokenizer conformance test installs an independent JavaScript tokenizer from npm. A machine
# whose node already ships npm (a nodejs package that bundles it) keeps it: Debian's npm package
# would conflict with such a nodejs.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
