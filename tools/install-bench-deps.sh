#!/usr/bin/env bash
# Installs what the benchmarks in tools/ need beyond the build and test dependencies (Debian
# packages; idempotent): tools/install-deps.sh --bench.
exec "$(dirname "$0")/install-deps.sh" --bench
