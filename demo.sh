#!/usr/bin/env bash
# demo.sh: build mip6mesh and run the demo (cmd/mip6demo). By default it
# tells the NSM story: an in-process Network Service Mesh domain (registry,
# nsmgr, our veth forwarder) with SPIFFE identities from a development CA,
# two Home Agents as NSM endpoints, a mobile node as an NSM client that
# registers over its vWire, a correspondent on the home link pinging the
# home address, the move to the other Home Agent when the serving one's pod
# is deleted, a second identity, metrics and a clean shutdown. Needs root
# and Go; nothing else (no SPIRE, no Kubernetes).
#
#   sudo ./demo.sh                      the NSM story, then everything is removed
#   sudo ./demo.sh --interdomain        the same across floating interdomain
#   sudo ./demo.sh --mode standalone    without NSM: two access links, a handover between them
#   sudo ./demo.sh --keep               leave the lab up until Ctrl-C to look around
#   sudo ./demo.sh --verbose            also print the NSM sdk's own log lines
#
# BIN_DIR (default ./bin) is where the binaries are built.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [[ ${EUID} -ne 0 ]]; then
	echo "demo.sh: needs root (it creates network namespaces): sudo ./demo.sh" >&2
	exit 1
fi
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH="/usr/local/go/bin:${PATH}" # sudo's secure_path often lacks it
fi
if ! command -v go >/dev/null 2>&1; then
	echo "demo.sh: go not found in PATH; install Go (see go.mod for the version)." >&2
	echo "         Under sudo, PATH may lack it: sudo env PATH=\"\$PATH\" ./demo.sh" >&2
	exit 1
fi
if ! command -v ip >/dev/null 2>&1; then
	echo "demo.sh: ip not found; install iproute2." >&2
	exit 1
fi

bin_dir=${BIN_DIR:-./bin}
mkdir -p "${bin_dir}"
echo "building nse-homeagent, nsc-mobile and mip6demo into ${bin_dir} ..."
go build -o "${bin_dir}/" ./cmd/nse-homeagent ./cmd/nsc-mobile ./cmd/mip6demo

exec "${bin_dir}/mip6demo" --bin "${bin_dir}" "$@"
