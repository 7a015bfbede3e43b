package mhio_test

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/nftables"

	"github.com/mip6mesh/mip6mesh/internal/mhio"
)

// The table as nft(8) lists it: the rules say what they were meant to.
func TestNftablesTableAsNftListsIt(t *testing.T) {
	ns := newNS(t, "nft")
	ns.open(t, mhio.Config{Instance: "shape"})
	out, err := exec.CommandContext(context.Background(), "ip", "netns", "exec", ns.name,
		"nft", "list", "table", "ip6", "mip6mesh-shape").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list table: %v: %s", err, out)
	}
	for _, want := range []string{
		"type filter hook prerouting priority raw; policy accept;",
		"exthdr dst exists meta l4proto mobility-header fib daddr type local drop",
		"rt type 2 meta l4proto mobility-header fib daddr type local drop",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nft list table lacks %q:\n%s", want, out)
		}
	}
}

// A table left by a run that did not close is replaced, and the
// replacement logged.
func TestOpenReplacesStaleTable(t *testing.T) {
	ns := newNS(t, "stale")
	nc, err := nftables.New(nftables.WithNetNSFd(int(ns.h)))
	if err != nil {
		t.Fatal(err)
	}
	stale := nc.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv6, Name: "mip6mesh-stale"})
	nc.AddChain(&nftables.Chain{Name: "leftover", Table: stale})
	if err := nc.Flush(); err != nil {
		t.Fatalf("create the stale table: %v", err)
	}

	var logs bytes.Buffer
	c := ns.open(t, mhio.Config{Instance: "stale", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if !strings.Contains(logs.String(), "removing a stale nftables table") {
		t.Errorf("no warning about the stale table in the log:\n%s", logs.String())
	}
	chains, err := nc.ListChainsOfTableFamily(nftables.TableFamilyIPv6)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ch := range chains {
		names = append(names, ch.Table.Name+"/"+ch.Name)
	}
	if len(names) != 1 || names[0] != "mip6mesh-stale/prerouting" {
		t.Errorf("chains %v, want only mip6mesh-stale/prerouting", names)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ns.nftTables(t); len(got) != 0 {
		t.Errorf("tables %v left after Close", got)
	}
}
