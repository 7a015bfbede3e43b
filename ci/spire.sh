#!/usr/bin/env bash
# ci/spire.sh — provides spire-server and spire-agent v1.13.3 for the tests
# that check identity end to end against real SPIRE (internal/spiffe/spiretest).
#
#   bash ci/spire.sh
#
# Builds both binaries into $MIP6MESH_SPIRE_DIR/bin (default
# ~/.cache/mip6mesh/spire-v1.13.3/bin) when they are missing, reuses them when
# they are present and report the right version, and prints where they are.
# A cold build takes about 5 minutes on 2 cores; a warm run takes a second.
#
# Why a temporary module: the Go module proxy refuses version lists for
# github.com/spiffe/spire, so `go install github.com/spiffe/spire/...@v1.13.3`
# fails, while requiring the pinned version from a module of our own works.
# spire-server needs cgo (sqlite3); tidy needs GONOSUMDB for one of SPIRE's
# dependencies whose checksum the sum database does not serve.
set -euo pipefail

SPIRE_VERSION=1.13.3
SPIRE_DIR=${MIP6MESH_SPIRE_DIR:-$HOME/.cache/mip6mesh/spire-v${SPIRE_VERSION}}
BIN_DIR="$SPIRE_DIR/bin"

export PATH="/usr/local/go/bin:${PATH}"
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

say() { printf 'ci/spire.sh: %s\n' "$*"; }
die() {
	printf 'ci/spire.sh: error: %s\n' "$*" >&2
	exit 1
}

# binary_ok NAME: NAME is in BIN_DIR and reports SPIRE_VERSION ("1.13.3"
# from this script's builds, "1.13.3-dev-unk" from a plain go build of the tag).
binary_ok() {
	local bin="$BIN_DIR/$1" out
	[[ -x $bin ]] || return 1
	out=$("$bin" --version 2>&1) || return 1
	[[ $out == "$SPIRE_VERSION" || $out == "$SPIRE_VERSION"-dev-* ]]
}

build() {
	local work
	command -v go >/dev/null || die "go not found on PATH"
	command -v gcc >/dev/null || die "gcc not found: spire-server needs cgo (apt-get install gcc)"
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand $work now: it is local
	trap "rm -rf '$work'" EXIT
	say "building spire-server and spire-agent v${SPIRE_VERSION} into $BIN_DIR (about 5 minutes on a cold cache)"
	cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "github.com/spiffe/spire/cmd/spire-agent"
	_ "github.com/spiffe/spire/cmd/spire-server"
)
GO
	(
		cd "$work"
		go mod init spirebuild >/dev/null 2>&1
		go get "github.com/spiffe/spire@v${SPIRE_VERSION}"
		GONOSUMDB=github.com/GoogleCloudPlatform/cloudsql-proxy go mod tidy
		mkdir -p "$BIN_DIR"
		# gittag makes --version print the release number, as official builds do.
		local ldflags="-s -w -X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION}"
		CGO_ENABLED=1 go build -ldflags "$ldflags" -o "$BIN_DIR/spire-server" github.com/spiffe/spire/cmd/spire-server
		CGO_ENABLED=1 go build -ldflags "$ldflags" -o "$BIN_DIR/spire-agent" github.com/spiffe/spire/cmd/spire-agent
	) || die "building SPIRE v${SPIRE_VERSION} failed (see the go output above)"
}

if binary_ok spire-server && binary_ok spire-agent; then
	say "reusing SPIRE v${SPIRE_VERSION} in $BIN_DIR"
else
	build
	binary_ok spire-server || die "$BIN_DIR/spire-server does not report version ${SPIRE_VERSION}: $("$BIN_DIR/spire-server" --version 2>&1 || true)"
	binary_ok spire-agent || die "$BIN_DIR/spire-agent does not report version ${SPIRE_VERSION}: $("$BIN_DIR/spire-agent" --version 2>&1 || true)"
	say "built SPIRE v${SPIRE_VERSION}"
fi
say "spire-server: $BIN_DIR/spire-server"
say "spire-agent:  $BIN_DIR/spire-agent"
say "tests find them through MIP6MESH_SPIRE_DIR=$SPIRE_DIR (that is also the default)"
