package mobilenode

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// State is where the home registration stands.
type State uint8

// States.
const (
	// StateUnregistered: the home agent holds no binding for us and none
	// is being asked for (before the first Move, after deregistration, at
	// home, or after the binding expired while detached).
	StateUnregistered State = iota
	// StateRegistering: a BU is on its way and the home agent holds no
	// binding we know of.
	StateRegistering
	// StateRegistered: the home agent holds a binding (Status.BoundCareOf
	// until Status.Expiry); a refresh or a move may be on its way.
	StateRegistered
	// StateDeregistering: a lifetime-0 BU is on its way.
	StateDeregistering
	// StateFailed: the home agent rejected the last BU, granted lifetime 0,
	// or a deregistration got no answer; Status.LastError says which.
	StateFailed
)

var stateNames = [...]string{"unregistered", "registering", "registered", "deregistering", "failed"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText makes a State read as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Status is a snapshot of a Registration.
type Status struct {
	State       State
	HomeAddress netip.Addr
	HomeAgent   netip.Addr
	// CareOf is the address BUs are sent from; zero while detached.
	CareOf netip.Addr
	// BoundCareOf is the care-of address of the binding the home agent
	// holds; zero when it holds none.
	BoundCareOf netip.Addr
	// Sequence is the sequence number of the last BU sent.
	Sequence uint16
	// Pending: a BU awaits its BA, or waits for the rate limit.
	Pending bool
	// Attempts is how many BUs the pending update has sent so far.
	Attempts int
	// Requested is the lifetime asked for; Granted the one the last
	// accepted BA granted (zero when there is no binding).
	Requested, Granted time.Duration
	// Expiry is when the binding runs out at the home agent; zero when
	// there is none.
	Expiry time.Time
	// RefreshDue is when the next BU goes out without any event: the
	// refresh of a binding, or the retry after a failure; zero when none
	// is planned.
	RefreshDue time.Time
	// LastAck is when the last matching BA arrived (zero if none) and
	// LastStatus its status.
	LastAck    time.Time
	LastStatus mh.Status
	// LastError is why the registration is failed or stalled: a
	// *StatusError, ErrZeroLifetime, ErrNoAck or the Sender's error
	// (wrapped); nil once a BA is accepted.
	LastError error
	Counters  Counters
}

// Counters count events since New.
type Counters struct {
	BUsSent         uint64 // BUs the Sender took without error, retransmissions included
	Retransmissions uint64 // BUs sent again because no BA came back in time
	SendErrors      uint64 // BUs the Sender failed to send
	BAsMatched      uint64 // BAs that answered the outstanding BU (status 135 included)
	BAsIgnored      uint64 // BAs from another address, with another sequence, or unexpected
}
