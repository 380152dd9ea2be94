#!/usr/bin/env bash
# Runs every libFuzzer harness of a fuzz build (default build-asan/, see scripts/sanitize.sh) for
# FIZZ_FUZZ_SECONDS (default 30) each, starting from the seed corpus in tests/fuzz/corpus/<name> and,
# when the build made one, <build>/fuzz/seeds/<name> (seeds too big to commit, such as real plugin
# modules); new inputs go to a scratch folder, never into the tree. A crash leaves its input in
# <build>/fuzz/findings/ and fails the run. fuzz_packet_parser loads BPF programs and runs them with
# BPF_PROG_TEST_RUN, so it needs root: without it that harness fails (it is not skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
seconds=${FIZZ_FUZZ_SECONDS:-30}
findings="$build/fuzz/findings"
mkdir -p "$findings"
status=0
for harness in "$build"/fuzz/fuzz_*; do
  [ -x "$harness" ] || continue
  name=$(basename "$harness")
  seeds=("tests/fuzz/corpus/${name#fuzz_}")
  [ -d "$build/fuzz/seeds/${name#fuzz_}" ] && seeds+=("$build/fuzz/seeds/${name#fuzz_}")
  if [ "$name" = fuzz_packet_parser ] && [ "$(id -u)" -ne 0 ]; then
    echo "$name: FAILED: needs root to load BPF programs and run BPF_PROG_TEST_RUN (run as root)"
    status=1
    continue
  fi
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  log="$build/fuzz/$name.log"
  if "$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$findings/$name-" "$scratch" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "$name: ${runs} executions in ${seconds} s, no finding"
  else
    echo "$name: FAILED (log: $log, input in $findings)"; tail -40 "$log"; status=1
  fi
  rm -rf "$scratch"
  trap - EXIT
done
exit $status
