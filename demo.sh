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

# shellcheck source=scripts/build.sh
source scripts/build.sh demo.sh mip6demo

exec "${bin_dir}/mip6demo" --bin "${bin_dir}" "$@"
