#!/usr/bin/env bash
# Sanitizer and fuzz builds (clang): build-asan/ (ASan+UBSan, and libFuzzer coverage so the fuzz
# harnesses share it) runs the unit and BPF suites and then each fuzz harness for a bounded time;
# build-tsan/ (TSan) runs the tests tagged [threads] (pump, control server, counters read from
# other threads). Needs root for the BPF suite, like scripts/test.sh.
# Each tree builds only what its stage runs: fizzhost_tests_asan (the test files holding [unit] or
# [bpf] cases) and the fuzz harnesses; fizzhost_tests_threads (the files holding [threads] cases).
#   FIZZ_FUZZ_SECONDS  seconds per fuzz harness (default 10 here; scripts/fuzz.sh alone runs longer)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# -O1 and line tables only: what the sanitizers' reports need (file:line in every frame), at about
# half the compile time of -O2 -g; unity builds as in scripts/build.sh.
configure() {  # dir, sanitizer flags for C++, for C
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIZZHOST_BUILD_BENCH=OFF \
    -DFIZZHOST_WERROR=ON -DCMAKE_UNITY_BUILD=ON "${launcher[@]}" "${@:4}" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" \
    "-DCMAKE_CXX_FLAGS=$2 -fno-omit-frame-pointer" "-DCMAKE_C_FLAGS=$3 -fno-omit-frame-pointer" \
    "-DCMAKE_EXE_LINKER_FLAGS=$3" "-DCMAKE_MODULE_LINKER_FLAGS=$3" "-DCMAKE_SHARED_LINKER_FLAGS=$3" >/dev/null
}

echo "== ASan+UBSan: unit and BPF suites"
configure build-asan "-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined" \
  "-fsanitize=address,undefined" -DFIZZHOST_FUZZ=ON
cmake --build build-asan -j"$jobs" --target fizzhost_tests_asan fizzhost_fuzzers
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ./fizzhost_tests_asan "[unit],[bpf]")

export FIZZ_FUZZ_SECONDS=${FIZZ_FUZZ_SECONDS:-10}
echo "== libFuzzer harnesses, ${FIZZ_FUZZ_SECONDS} s each"
bash scripts/fuzz.sh build-asan

echo "== TSan: threads"
configure build-tsan "-fsanitize=thread" "-fsanitize=thread"
cmake --build build-tsan -j"$jobs" --target fizzhost_tests_threads
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
(cd build-tsan && ./fizzhost_tests_threads "[threads]")
