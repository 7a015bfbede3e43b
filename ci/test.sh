#!/usr/bin/env bash
# ci/test.sh — the one command that runs the project's checks and tests.
#
#   bash ci/test.sh
#
# Run it as root from anywhere inside the repository (the tests create
# network namespaces). On a fresh Debian 12 machine with Go at /usr/local/go
# it first installs what the tests need, then runs, in order:
#   gofmt -l, go vet, golangci-lint, go test -race, and a short fuzz smoke
#   of every Fuzz* target in the module.
#
# Optional environment:
#   FUZZTIME=50000x    how much each fuzz target runs (go test -fuzztime): an
#                      execution count, not a duration, because a duration
#                      trips a race in Go's fuzz coordinator under load
#                      (go.dev/issue/75804, unfixed in go1.26): a spurious
#                      "context deadline exceeded" with no failing input
#   SKIP_INSTALL=1     skip the installs (apt packages, golangci-lint,
#                      kustomize, and SPIRE, which ci/spire.sh builds from the
#                      module proxy into ~/.cache/mip6mesh on first use)
#   GOLANGCI_LINT_BIN_DIR=<dir>  where golangci-lint is cached
#                      (default: $(go env GOPATH)/bin)
# shellcheck disable=SC2317 # step functions are called indirectly via run_step
set -euo pipefail

GOLANGCI_LINT_VERSION=v2.15.0
# kustomize builds deployments/ in its static test; v5.8.3 needs go1.27.
KUSTOMIZE_VERSION=v5.8.2
APT_PACKAGES=(tshark python3-scapy nftables iproute2 tcpdump iperf3)
FUZZTIME=${FUZZTIME:-50000x}
SKIP_INSTALL=${SKIP_INSTALL:-0}

export PATH="/usr/local/go/bin:${PATH}"
# Never switch toolchains behind the project's back: test with the Go that is installed.
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

GOLANGCI_LINT_BIN_DIR=${GOLANGCI_LINT_BIN_DIR:-$(go env GOPATH)/bin}
GOLANGCI_LINT="${GOLANGCI_LINT_BIN_DIR}/golangci-lint"

SCRIPT_START=$SECONDS
STEP_START=$SECONDS
PASSED=()
FAILED=()

header() {
	STEP_START=$SECONDS
	printf '\n==> %s\n' "$*"
}

done_step() {
	printf -- '--> %s (%ds)\n' "$1" "$((SECONDS - STEP_START))"
}

die() {
	printf 'ci/test.sh: %s\n' "$*" >&2
	printf '\n==> RESULT: FAIL (setup failed: %s)\n' "$*"
	exit 1
}

# run_step NAME FUNC: runs FUNC with errexit in force (a subshell outside
# any `if`, so `set -e` is not suspended), records the outcome, and goes on
# so one run reports every failing step.
run_step() {
	local name=$1 fn=$2 rc
	header "$name"
	set +e
	("$fn")
	rc=$?
	set -e
	if [[ $rc -eq 0 ]]; then
		PASSED+=("$name")
		done_step "ok: $name"
	else
		FAILED+=("$name")
		done_step "FAILED: $name (exit $rc)"
	fi
}

# ---------------------------------------------------------------- installs

apt_missing() {
	local p status
	for p in "${APT_PACKAGES[@]}"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
		[[ $status == ii* ]] || printf '%s\n' "$p"
	done
}

# apt-get update does not honour DPkg::Lock::Timeout for the lists lock, so
# wait for any other apt/dpkg run (e.g. a background install) ourselves.
wait_apt_locks() {
	local waited=0
	local locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
	command -v fuser >/dev/null || return 0
	while fuser "${locks[@]}" >/dev/null 2>&1; do
		if ((waited == 0)); then
			echo "waiting for another apt/dpkg process to finish..."
		fi
		if ((waited >= 900)); then
			die "apt/dpkg lock still held after ${waited}s"
		fi
		sleep 5
		waited=$((waited + 5))
	done
}

install_apt() {
	local missing log
	mapfile -t missing < <(apt_missing)
	if ((${#missing[@]} == 0)); then
		echo "apt packages already present: ${APT_PACKAGES[*]}"
		check_scapy
		return 0
	fi
	[[ $(id -u) -eq 0 ]] || die "missing packages (${missing[*]}) and not root; install them or run as root"
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# tshark's wireshark-common asks whether non-root users may capture: answer no.
	echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
	log=$(mktemp)
	local apt_opts=(-q -y -o DPkg::Lock::Timeout=900 -o Dpkg::Use-Pty=0)
	wait_apt_locks
	if ! apt-get "${apt_opts[@]}" update >"$log" 2>&1; then
		sleep 10
		wait_apt_locks
		apt-get "${apt_opts[@]}" update >"$log" 2>&1 || { cat "$log" >&2; die "apt-get update failed"; }
	fi
	wait_apt_locks
	apt-get "${apt_opts[@]}" install --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >"$log" 2>&1 || { cat "$log" >&2; die "apt-get install failed"; }
	rm -f "$log"
	mapfile -t missing < <(apt_missing)
	((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
	check_scapy
}

# Tests must call scapy through Debian's interpreter: the python3 on PATH may
# be a pyenv one without it.
check_scapy() {
	/usr/bin/python3 -c 'import scapy' 2>/dev/null || die "/usr/bin/python3 cannot import scapy"
}

golangci_lint_ok() {
	# e.g. "golangci-lint has version 2.15.0 built with go1.26.8 from ..."
	# A binary built by an older Go cannot lint code for a newer Go, so the
	# toolchain must match too.
	local out
	[[ -x $GOLANGCI_LINT ]] || return 1
	out=$("$GOLANGCI_LINT" version 2>/dev/null) || return 1
	[[ $out == *"version ${GOLANGCI_LINT_VERSION#v} built with $(go env GOVERSION) "* ]]
}

install_golangci_lint() {
	if golangci_lint_ok; then
		echo "reusing $GOLANGCI_LINT ($GOLANGCI_LINT_VERSION)"
		return 0
	fi
	echo "building golangci-lint $GOLANGCI_LINT_VERSION into $GOLANGCI_LINT_BIN_DIR (a few minutes on a cold build cache)"
	mkdir -p "$GOLANGCI_LINT_BIN_DIR"
	GOBIN="$GOLANGCI_LINT_BIN_DIR" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@${GOLANGCI_LINT_VERSION}" ||
		die "go install golangci-lint failed"
	golangci_lint_ok || die "installed golangci-lint does not report ${GOLANGCI_LINT_VERSION}: $("$GOLANGCI_LINT" version 2>&1 || true)"
	"$GOLANGCI_LINT" version
}

kustomize_ok() {
	local bin="$GOLANGCI_LINT_BIN_DIR/kustomize"
	[[ -x $bin ]] && [[ $("$bin" version 2>/dev/null) == "$KUSTOMIZE_VERSION"* ]]
}

install_kustomize() {
	if kustomize_ok; then
		echo "reusing $GOLANGCI_LINT_BIN_DIR/kustomize ($KUSTOMIZE_VERSION)"
		return 0
	fi
	echo "building kustomize $KUSTOMIZE_VERSION into $GOLANGCI_LINT_BIN_DIR"
	GOBIN="$GOLANGCI_LINT_BIN_DIR" go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" ||
		die "go install kustomize failed"
	kustomize_ok || die "installed kustomize does not report $KUSTOMIZE_VERSION"
}

# ------------------------------------------------------------------- steps

go_files() {
	# Same files the go tool considers: skip .git, vendor, testdata, _* and .* dirs.
	find . \( -name .git -o -name vendor -o -name testdata -o -name '_*' -o -name '.?*' \) -prune \
		-o -type f -name '*.go' -print
}

step_gofmt() {
	local files unformatted
	files=$(go_files)
	if [[ -z $files ]]; then
		echo "no Go files"
		return 0
	fi
	# shellcheck disable=SC2086 # one path a line, no spaces in Go file names here
	unformatted=$(gofmt -l $files)
	if [[ -n $unformatted ]]; then
		echo "these files need gofmt (run: gofmt -w <file>):"
		# shellcheck disable=SC2086 # split the one-per-line list
		printf '  %s\n' $unformatted
		return 1
	fi
	echo "all $(wc -l <<<"$files") Go files formatted"
}

step_vet() {
	go vet ./...
}

step_lint() {
	"$GOLANGCI_LINT" run ./...
}

# step_test runs every test. A package that fails is run once more on its
# own: the namespace tests share 2 cores with every other package, and an
# intermittent failure must not hide the rest of the run's verdict. A pass
# on the second run is reported as FLAKY with the first run's output kept
# above it; a second failure fails the step.
step_test() {
	local log failed pkg
	log=$(mktemp)
	if go test -race -count=1 ./... 2>&1 | tee "$log"; then
		rm -f "$log"
		return 0
	fi
	mapfile -t failed < <(awk '$1 == "FAIL" && $2 ~ /\// {print $2}' "$log" | sort -u)
	rm -f "$log"
	((${#failed[@]} > 0)) || return 1 # a build failure or a panic outside any package
	for pkg in "${failed[@]}"; do
		printf '\n--> rerunning %s once on its own\n' "$pkg"
		go test -race -count=1 "$pkg" || return 1
		printf 'FLAKY: %s failed in the full run and passed alone (see its output above)\n' "$pkg"
	done
}

# Prints "importpath FuzzName" for every fuzz target in the module's test files.
fuzz_targets() {
	local pkg file
	# shellcheck disable=SC2016 # a Go template, not shell
	go list -f '{{$p := .ImportPath}}{{$d := .Dir}}{{range .TestGoFiles}}{{$p}} {{$d}}/{{.}}{{"\n"}}{{end}}{{range .XTestGoFiles}}{{$p}} {{$d}}/{{.}}{{"\n"}}{{end}}' ./... |
		while read -r pkg file; do
			[[ -n $pkg ]] || continue
			sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file" | while read -r fn; do
				printf '%s %s\n' "$pkg" "$fn"
			done
		done
}

step_fuzz() {
	local targets pkg fn n=0 bad=0
	targets=$(fuzz_targets)
	if [[ -z $targets ]]; then
		echo "no fuzz targets found"
		return 0
	fi
	echo "fuzzing $(wc -l <<<"$targets") target(s), -fuzztime=${FUZZTIME} each"
	while read -r pkg fn; do
		n=$((n + 1))
		printf -- '--- %s %s\n' "$pkg" "$fn"
		if ! go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg"; then
			bad=$((bad + 1))
			echo "FUZZ FAILED: $pkg $fn (a reproducer, if any, is under the package's testdata/fuzz/$fn/)"
		fi
	done <<<"$targets"
	echo "fuzz: $((n - bad))/$n targets ok"
	((bad == 0))
}

# -------------------------------------------------------------------- main

echo "ci/test.sh in $ROOT with $(go version)"

if [[ $SKIP_INSTALL == 1 ]]; then
	echo "SKIP_INSTALL=1: not installing apt packages or golangci-lint"
	command -v "$GOLANGCI_LINT" >/dev/null || GOLANGCI_LINT=golangci-lint
else
	header "install: apt packages (${APT_PACKAGES[*]})"
	install_apt
	done_step "ok: apt packages"
	header "install: golangci-lint ${GOLANGCI_LINT_VERSION}"
	install_golangci_lint
	done_step "ok: golangci-lint"
	header "install: kustomize ${KUSTOMIZE_VERSION} (deployments/ test)"
	install_kustomize
	done_step "ok: kustomize"
	header "install: SPIRE (real SPIFFE identities in internal/e2ensm and internal/spiffe/spiretest)"
	bash ci/spire.sh || die "ci/spire.sh failed"
	done_step "ok: SPIRE"
fi
export KUSTOMIZE="$GOLANGCI_LINT_BIN_DIR/kustomize"

run_step "gofmt -l" step_gofmt
run_step "go vet ./..." step_vet
run_step "golangci-lint run ./..." step_lint
run_step "go test -race -count=1 ./..." step_test
run_step "fuzz smoke (-fuzztime=${FUZZTIME} per target)" step_fuzz

join() {
	local IFS=';'
	local s="$*"
	printf '%s' "${s//;/, }"
}

total=$((SECONDS - SCRIPT_START))
if ((${#FAILED[@]} == 0)); then
	printf '\n==> RESULT: PASS - all %d steps ok (%s) in %ds\n' "${#PASSED[@]}" "$(join "${PASSED[@]}")" "$total"
	exit 0
fi
printf '\n==> RESULT: FAIL - failed: %s; ok: %s; in %ds\n' \
	"$(join "${FAILED[@]}")" "$(join "${PASSED[@]:-none}")" "$total"
exit 1
