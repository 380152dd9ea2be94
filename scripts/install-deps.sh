#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test fizzhost (run as root).
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev
      libboost-dev libboost-filesystem-dev libtomlplusplus-dev libspdlog-dev libfmt-dev catch2
      libcli11-dev nlohmann-json3-dev libbenchmark-dev iproute2 libpcap-dev)
pkgs+=(libseccomp-dev)  # the confined decoder workers' syscall filters
pkgs+=(prometheus-cpp-dev libsystemd-dev prometheus curl)  # service: /metrics, sd_notify, scrape tests
# /metrics over TLS with basic auth: OpenSSL, the web config's YAML, bcrypt (crypt_r); the tests
# make their certificates with the openssl tool.
pkgs+=(libssl-dev libyaml-dev libcrypt-dev openssl)
# The sanitizer and fuzz builds (scripts/sanitize.sh): clang 14 and its runtime libraries.
pkgs+=(clang-14 libclang-rt-14-dev)
pkgs+=(ccache)  # scripts/build.sh and sanitize.sh compile through it when it is there
pkgs+=(lld)  # the linker CMakeLists.txt picks when it is there: several times faster than GNU ld here
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# XDP and BPF need these; tests check again and explain when they are missing.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
