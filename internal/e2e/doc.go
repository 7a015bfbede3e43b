// Package e2e holds the end-to-end tests: the real nse-homeagent and
// nsc-mobile binaries in the lab topology of network namespaces
// (internal/lab), with real tunnels, a TCP stream across a handover, and
// scapy as an independent mobile node. It has no code of its own.
package e2e
