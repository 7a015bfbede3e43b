package mobilenode

import (
	"errors"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrInvalidConfig: New was given a configuration it cannot use; the
	// message names the field and the value.
	ErrInvalidConfig = errors.New("invalid mobile node configuration")
	// ErrInvalidCareOf: Move was given an address that cannot be a care-of
	// address.
	ErrInvalidCareOf = errors.New("invalid care-of address")
	// ErrRejected: the home agent answered with a status of 128 or more;
	// the error is a *StatusError.
	ErrRejected = errors.New("binding update rejected")
	// ErrZeroLifetime: the home agent accepted a registration but granted
	// lifetime 0, which removes the binding.
	ErrZeroLifetime = errors.New("home agent accepted the binding update with lifetime 0")
	// ErrNoAck: no Binding Acknowledgement came back (retransmissions
	// reached MaxBindackTimeout, or Deregister's context ended).
	ErrNoAck = errors.New("no binding acknowledgement")
	// ErrNoCareOf: there is no care-of address to send from.
	ErrNoCareOf = errors.New("no care-of address")
	// ErrClosed: the Registration was closed.
	ErrClosed = errors.New("registration closed")
)

// StatusError is a rejection by the home agent. It matches ErrRejected.
type StatusError struct {
	Status mh.Status
}

func (e *StatusError) Error() string {
	return ErrRejected.Error() + ": status " + e.Status.String()
}

// Unwrap returns ErrRejected.
func (e *StatusError) Unwrap() error { return ErrRejected }
