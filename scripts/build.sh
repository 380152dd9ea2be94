#!/usr/bin/env bash
# Configures and builds fizzhost into build/ (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIZZHOST_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)"
