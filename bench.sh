#!/usr/bin/env bash
# bench.sh: build mip6mesh and run its benchmarks (cmd/mip6bench): the real
# nse-homeagent in network namespaces, driven by load generators of ours.
# Prints the figures, writes docs/performance/results.json and regenerates
# docs/performance.md with its plots. Needs root and Go.
#
#   sudo ./bench.sh                                       every suite, default scale steps
#   sudo ./bench.sh --suites registration --steps 1,1000,10000
#   sudo ./bench.sh --dataplane bpf                       the map-driven data plane
#   sudo ./bench.sh --help                                every flag
#
# BIN_DIR (default ./bin) is where the binaries are built. Namespaces and
# daemons are removed on exit, Ctrl-C included.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# shellcheck source=scripts/build.sh
source scripts/build.sh bench.sh mip6bench

# The command recorded with the figures in docs/performance.md.
export MIP6BENCH_COMMAND="sudo ./bench.sh${*:+ $*}"
exec "${bin_dir}/mip6bench" --bin "${bin_dir}" "$@"
