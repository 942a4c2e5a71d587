#!/usr/bin/env bash
# Installs what the benchmarks in tools/ need beyond tools/install-deps.sh, from Debian packages:
# hyperfine (timings), GNU time (/usr/bin/time -v: peak RSS) and python3-torch (the PyTorch eager
# baseline of tools/bench_torch_forward.py). Idempotent; apt-get update runs before installing.
set -euo pipefail
packages=(hyperfine time python3-torch python3-numpy)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-bench-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update
$sudo apt-get install -y "${missing[@]}"
