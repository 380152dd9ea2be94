#!/usr/bin/env bash
# The chaos test for as long as asked (as root): random kills around reloads and rollout moves
# under steady traffic through the real daemon on a veth pair, then an account of every frame
# (sent, delivered, counted lost, silently lost: must be 0). CI runs it for 60 s.
#   bash scripts/chaos.sh [SECONDS] [SEED]     (default 600 s, a random seed; the seed is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
export FIZZ_CHAOS_SECONDS=${1:-600}
[ -n "${2:-}" ] && export FIZZ_CHAOS_SEED=$2
exec build/fizzhost_tests "[chaos]"
