#!/usr/bin/env bash
# N hot swaps under steady traffic through the real daemon on a veth pair (as root), then an
# account of every frame: sent, counted, lost, events, duplicated, wrong, fds and RSS before/after.
#   bash scripts/soak.sh [SWAPS] [TRANSPORT]     (default 1000 swaps, the default transport)
set -euo pipefail
cd "$(dirname "$0")/.."
export FIZZ_SOAK_SWAPS=${1:-1000}
[ -n "${2:-}" ] && export FIZZ_SOAK_TRANSPORT=$2
exec build/fizzhost_tests "[soak]"
