#!/usr/bin/env bash
# The fizzhost lab: installs what is missing, builds, makes a veth pair (fzlab0 here, its peer in a
# private network namespace), runs `fizzhost --config` on fzlab0 with config/fizz.toml, sends frames
# from 198.18.0.0/15 sources through the peer, and swaps fizz -> fizzbuzz -> fibonacci with SIGHUP
# while the traffic flows. Events stream to stdout, logs to stderr. Everything is removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >&2
bash scripts/build.sh >&2   # stdout carries only the events

ns=fzlab-peer
lab=build/lab
mkdir -p "$lab"
cleanup() {
  [[ -n "${sender:-}" ]] && kill "$sender" 2>/dev/null || true
  [[ -n "${host:-}" ]] && kill -TERM "$host" 2>/dev/null && wait "$host" 2>/dev/null || true
  ip link del fzlab0 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add "$ns"
ip link add fzlab0 type veth peer name fzlab0p netns "$ns"
ip link set fzlab0 up
ip -n "$ns" link set fzlab0p up

# The config is copied so the lab can edit the classifier for each swap; plugin_dir is made absolute.
cfg="$lab/fizz.toml"
sed "s|^plugin_dir = .*|plugin_dir = \"$PWD/build/plugins\"|" config/fizz.toml > "$cfg"
set_classifier() { sed -i "s|^classifier = .*|classifier = \"$1\"|" "$cfg"; }

./build/fizzhost --config "$cfg" &
host=$!
sleep 1
ip netns exec "$ns" ./build/fizzhost-send --iface fzlab0p --from 198.18.0.0 --count 64 --rounds 0 --pps 40 &
sender=$!
for next in fizzbuzz fibonacci; do
  sleep 4
  set_classifier "$next"
  echo "lab: swapping to $next (SIGHUP)" >&2
  kill -HUP "$host"
done
sleep 4
./build/fizzhost status --config "$cfg" >&2
bpftool link show >&2 || true
