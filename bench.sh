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

if [[ ${EUID} -ne 0 ]]; then
	echo "bench.sh: needs root (it creates network namespaces): sudo ./bench.sh" >&2
	exit 1
fi
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH="/usr/local/go/bin:${PATH}" # sudo's secure_path often lacks it
fi
if ! command -v go >/dev/null 2>&1; then
	echo "bench.sh: go not found in PATH; install Go (see go.mod for the version)." >&2
	echo "          Under sudo, PATH may lack it: sudo env PATH=\"\$PATH\" ./bench.sh" >&2
	exit 1
fi

bin_dir=${BIN_DIR:-./bin}
mkdir -p "${bin_dir}"
echo "building nse-homeagent, nsc-mobile and mip6bench into ${bin_dir} ..." >&2
go build -o "${bin_dir}/" ./cmd/nse-homeagent ./cmd/nsc-mobile ./cmd/mip6bench

# The command recorded with the figures in docs/performance.md.
export MIP6BENCH_COMMAND="sudo ./bench.sh${*:+ $*}"
exec "${bin_dir}/mip6bench" --bin "${bin_dir}" "$@"
