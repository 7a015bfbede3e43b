package main

import (
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

// TestHomeAgentAddressGoesOnLoOnlyWhenAbsent: in a namespace where no
// interface holds the Home Agent address, it is put on lo and taken off
// again; where one does (a home link), nothing changes.
func TestHomeAgentAddressGoesOnLoOnlyWhenAbsent(t *testing.T) {
	ha := netnstest.New(t, "ha")
	addr := netip.MustParseAddr("2001:db8:1::1")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	local := func() bool {
		var held bool
		if err := ha.Do(func() (err error) { held, err = isLocal(addr); return err }); err != nil {
			t.Fatal(err)
		}
		return held
	}
	var restore func() error
	if err := ha.Do(func() (err error) { restore, err = ensureHomeAgentAddress(addr, log); return err }); err != nil {
		t.Fatal(err)
	}
	if !local() {
		t.Fatal("the home agent address is not local after ensureHomeAgentAddress")
	}
	if err := ha.Do(restore); err != nil {
		t.Fatal(err)
	}
	if local() {
		t.Fatal("the home agent address is still local after restore")
	}

	// Held already (here on lo, by someone else): left as it is.
	if err := ha.AddAddr("lo", netip.PrefixFrom(addr, 128)); err != nil {
		t.Fatal(err)
	}
	if err := ha.Do(func() (err error) { restore, err = ensureHomeAgentAddress(addr, log); return err }); err != nil {
		t.Fatal(err)
	}
	if err := ha.Do(restore); err != nil || !local() {
		t.Errorf("an address the agent did not add was removed (%v)", err)
	}
}
