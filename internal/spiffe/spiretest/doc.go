// Package spiretest runs a real SPIRE server and agent (v1.13.3, built by
// ci/spire.sh) for tests that check identity end to end. It drives the NSM
// sdk's spire.Start, registers the entries the test asks for (workloads are
// told apart by the path of their binary: unix:path selectors, since all our
// daemons run as root) and tears everything down again: processes, sockets,
// data directories.
//
// spire.Start uses SPIRE's default socket paths (/tmp/spire-server/private
// and /tmp/spire-agent/public), so one SPIRE runs at a time per machine; a
// file lock in the SPIRE directory serializes test binaries running in
// parallel.
package spiretest
