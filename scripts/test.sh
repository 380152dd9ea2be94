#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (as root: the suite loads real BPF
# programs and creates network namespaces; with FIZZ_REQUIRE_PRIVILEGED=1 a missing privilege fails).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 1200
