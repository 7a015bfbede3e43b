package mnserver_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
	"github.com/mip6mesh/mip6mesh/internal/mnserver"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// TestWaitRegisteredReturnsOnceTheHomeAgentAccepts: a wait started
// before the BA ends with it, and one started after returns at once.
func TestWaitRegisteredReturnsOnceTheHomeAgentAccepts(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	waited := r.waitInBackground(t.Context(), atA.CoA)
	r.ack(atA.CoA)
	if err := <-waited; err != nil {
		t.Fatalf("WaitRegistered(%s) = %v after an accepted BA", atA.CoA, err)
	}
	if err := r.node.WaitRegistered(t.Context(), atA.CoA); err != nil {
		t.Errorf("WaitRegistered(%s) once bound = %v", atA.CoA, err)
	}
}

// TestWaitRegisteredAfterAMoveWaitsForTheNewCareOf: being bound at the
// previous care-of address does not end a wait for the new one.
func TestWaitRegisteredAfterAMoveWaitsForTheNewCareOf(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	r.ack(atA.CoA)
	r.attach(atB)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.node.WaitRegistered(ctx, atB.CoA); !errors.Is(err, mnserver.ErrNotRegistered) {
		t.Fatalf("WaitRegistered(%s) while bound at %s = %v, want ErrNotRegistered", atB.CoA, atA.CoA, err)
	}
	r.dp.allowRelease()
	waited := r.waitInBackground(t.Context(), atB.CoA)
	r.ack(atB.CoA)
	if err := <-waited; err != nil {
		t.Errorf("WaitRegistered(%s) = %v after an accepted BA", atB.CoA, err)
	}
}

// TestWaitRegisteredReportsTheRefusalStatus: a refusing BA ends the wait
// with a *RefusedError carrying its status.
func TestWaitRegisteredReportsTheRefusalStatus(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	waited := r.waitInBackground(t.Context(), atA.CoA)
	r.answer(atA.CoA, mh.StatusAdministrativelyProhibited)
	for _, err := range []error{<-waited, r.node.WaitRegistered(t.Context(), atA.CoA)} {
		var refused *mnserver.RefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("WaitRegistered = %v, want a *RefusedError", err)
		}
		if refused.Status != mh.StatusAdministrativelyProhibited || refused.CareOf != atA.CoA {
			t.Errorf("refusal %+v, want status %s at %s", refused, mh.StatusAdministrativelyProhibited, atA.CoA)
		}
		if !errors.Is(err, mobilenode.ErrRejected) {
			t.Errorf("%v does not match mobilenode.ErrRejected", err)
		}
	}
}

// TestWaitRegisteredEndsWithItsContext: without a BA the wait ends with
// ctx, naming the care-of address and wrapping ctx's error.
func TestWaitRegisteredEndsWithItsContext(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	err := r.node.WaitRegistered(ctx, atA.CoA)
	if !errors.Is(err, mnserver.ErrNotRegistered) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitRegistered without a BA = %v, want ErrNotRegistered and DeadlineExceeded", err)
	}
	if want := atA.CoA.String(); !containsAll(err.Error(), want, "registering") {
		t.Errorf("error %q does not name %s and the state", err, want)
	}
}

// TestCloseEndsWaits: Close ends a wait in progress and later ones.
func TestCloseEndsWaits(t *testing.T) {
	r := newRig(t)
	r.attach(atA)
	waited := r.waitInBackground(t.Context(), atA.CoA)
	r.node.Close()
	if err := <-waited; !errors.Is(err, mobilenode.ErrClosed) {
		t.Errorf("wait in progress at Close = %v, want ErrClosed", err)
	}
	if err := r.node.WaitRegistered(t.Context(), atA.CoA); !errors.Is(err, mobilenode.ErrClosed) {
		t.Errorf("wait after Close = %v, want ErrClosed", err)
	}
}

func (r *rig) waitInBackground(ctx context.Context, coa netip.Addr) <-chan error {
	done := make(chan error, 1)
	go func() { done <- r.node.WaitRegistered(ctx, coa) }()
	return done
}

// answer waits for the next BU from coa and answers it with status.
func (r *rig) answer(coa netip.Addr, status mh.Status) {
	r.t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case bu := <-r.conn.sent:
			if bu.coa != coa {
				continue
			}
			ba := &mh.BindingAck{Status: status, Sequence: bu.seq}
			pkt, err := mh.AppendPacket(nil, &mh.Packet{Src: homeAgent, Dst: coa, RoutingAddress: homeAddr}, ba)
			if err != nil {
				r.t.Fatal(err)
			}
			r.conn.in <- pkt
			return
		case <-timeout:
			r.t.Fatalf("no binding update from %s", coa)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
