#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite (as root: the suite loads real BPF
# programs and creates network namespaces; with FIZZ_REQUIRE_PRIVILEGED=1 a missing privilege fails):
# the main suite (unit, BPF, netns, daemon, soak, SDK), then scripts/sanitize.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
# Two at a time: the entries marked RUN_SERIAL (tests/CMakeLists.txt) still run alone.
(cd build && ctest --output-on-failure --timeout 1200 -j"$(nproc)")
# ASan+UBSan over the unit and BPF suites, the fuzz harnesses for a bounded time, TSan over the
# threaded tests. FIZZ_STAGES=main stops after the main suite (a quick local run).
if [ "${FIZZ_STAGES:-all}" != main ]; then
  bash scripts/sanitize.sh
fi
