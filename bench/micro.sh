#!/usr/bin/env bash
# Builds the Google Benchmark micro-benchmarks (bench/micro) in a Release
# build and runs them. Arguments go to the benchmark binary, e.g.
#   bench/micro.sh --benchmark_filter=timestamp --benchmark_repetitions=5
set -euo pipefail
cd "$(dirname "$0")/.."

if ! grep -q 'BADGES_HEALTH_BUILD_BENCH' CMakeLists.txt; then
  echo "bench/micro.sh: the top-level CMakeLists.txt does not add bench/ yet; it needs" >&2
  echo "  option(BADGES_HEALTH_BUILD_BENCH ...) and add_subdirectory(bench) behind it" >&2
  exit 1
fi

scripts/install-deps
if ! dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "bench/micro.sh: need root or sudo to install libbenchmark-dev" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "bench/micro.sh: installing libbenchmark-dev" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libbenchmark-dev >/dev/null
fi

bench/build-release build/bench micro_benchmarks -DBADGES_HEALTH_BUILD_BENCH=ON
exec build/bench/bench/micro_benchmarks "$@"
