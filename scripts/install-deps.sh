#!/usr/bin/env bash
# Installs the Debian packages satload builds and tests with. Idempotent and quiet when
# everything is already present. Usage: scripts/install-deps.sh [build|test|bench]
set -euo pipefail

build_pkgs=(
  g++ cmake ninja-build pkg-config make
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsodium-dev libsecp256k1-dev libsqlite3-dev libpq-dev libpqxx-dev
  libcli11-dev libfmt-dev libspdlog-dev libqrencode-dev libexpected-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs npm
)
test_pkgs=(
  clang libclang-rt-14-dev lld-14 nodejs npm curl strace postgresql nginx-light procps jq
  sqlite3 openssl python3 bsdutils wrk haproxy
  chromium
)
# `make bench`: the peers and tools of bench/ beside the test packages.
bench_pkgs=(
  gnuplot-nox iproute2 util-linux coreutils
)

want=("${build_pkgs[@]}")
if [[ "${1:-build}" == test || "${1:-build}" == bench ]]; then
  want+=("${test_pkgs[@]}")
fi
if [[ "${1:-build}" == bench ]]; then
  want+=("${bench_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# node and npm (the web app's build: Vite needs node >= 20.19) may come from outside Debian's
# packages on this machine; accept them as found.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}")
  missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
