package e2ensm_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/lab/labtest"
	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
)

// TestSecondIdentityCannotTakeTheFirstsHomeAddress: two mobile nodes with
// their own SPIFFE identities register through NSM and get different home
// addresses. Then the second one, from its own vWire and care-of address,
// sends (with scapy, an independent implementation) a Binding Update for
// the first one's home address: the Home Agent answers 133 and its binding
// cache is unchanged.
func TestSecondIdentityCannotTakeTheFirstsHomeAddress(t *testing.T) {
	l := newLab(t, nsmlab.Options{MobileNodes: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mustStartHA(ctx, t, l, 1)
	first := mustRegister(ctx, t, l, 1)
	second := mustRegister(ctx, t, l, 2)
	if first.Connection.HomeAddress == second.Connection.HomeAddress {
		t.Fatalf("two identities got the same home address %v", first.Connection.HomeAddress)
	}
	before := bindings(ctx, t, l)

	a := labtest.ScapyBU(ctx, t, l.MN[1].Name(), "--iface", nsmlab.VWire, "--coa", second.Connection.CareOf.String(),
		"--ha", nsmlab.HAAddr(1).String(), "--hoa", first.Connection.HomeAddress.String(), "--seq", "100", "--lifetime", "60")
	if a.Answer == nil || a.Answer.Type != "BA" || a.Answer.Status != int(mh.StatusNotHomeAgentForThisMobileNode) {
		t.Errorf("BU for the first mobile node's home address from the second's vWire: answer %+v, want a BA with status 133", a.Answer)
	}
	if after := bindings(ctx, t, l); !slices.Equal(after, before) {
		t.Errorf("binding cache changed by a refused BU:\nbefore %v\nafter  %v", before, after)
	}
}

// bindings is Home Agent 1's binding cache as "HoA at CoA" lines, sorted.
func bindings(ctx context.Context, t *testing.T, l *nsmlab.Lab) []string {
	t.Helper()
	bs, err := l.Bindings(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		out = append(out, bindingLine(b))
	}
	slices.Sort(out)
	return out
}

func bindingLine(b homeagent.Binding) string {
	return b.HomeAddress.String() + " at " + b.CareOf.String()
}
