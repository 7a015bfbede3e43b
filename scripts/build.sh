# scripts/build.sh: the preamble demo.sh and bench.sh share. Sourced, not
# run: `source scripts/build.sh <script name> <cmd/ package>` from the
# repository root checks for root and Go, then builds nse-homeagent,
# nsc-mobile and the given command into $bin_dir (BIN_DIR, default ./bin).
# shellcheck shell=bash

build_script=$1
build_command=$2

if [[ ${EUID} -ne 0 ]]; then
	echo "${build_script}: needs root (it creates network namespaces): sudo ./${build_script}" >&2
	exit 1
fi
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH="/usr/local/go/bin:${PATH}" # sudo's secure_path often lacks it
fi
if ! command -v go >/dev/null 2>&1; then
	echo "${build_script}: go not found in PATH; install Go (see go.mod for the version)." >&2
	echo "  Under sudo, PATH may lack it: sudo env PATH=\"\$PATH\" ./${build_script}" >&2
	exit 1
fi
if ! command -v ip >/dev/null 2>&1; then
	echo "${build_script}: ip not found; install iproute2." >&2
	exit 1
fi

bin_dir=${BIN_DIR:-./bin}
mkdir -p "${bin_dir}"
echo "building nse-homeagent, nsc-mobile and ${build_command} into ${bin_dir} ..." >&2
go build -o "${bin_dir}/" ./cmd/nse-homeagent ./cmd/nsc-mobile "./cmd/${build_command}"
