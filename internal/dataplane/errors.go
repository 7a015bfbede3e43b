package dataplane

import (
	"errors"
	"fmt"
)

// Sentinel errors; drivers wrap them, test with errors.Is.
var (
	// ErrNotStarted: a method that needs Start was called before it.
	ErrNotStarted = errors.New("data plane not started")
	// ErrClosed: the instance was closed.
	ErrClosed = errors.New("data plane closed")
	// ErrNotBound: Unbind of a home address without a binding.
	ErrNotBound = errors.New("no binding for home address")
	// ErrUnsupported: the kernel lacks a feature the driver needs; the
	// caller may pick another driver.
	ErrUnsupported = errors.New("kernel feature not supported")
	// ErrForwardingDisabled: the Home Agent's namespace does not forward
	// IPv6 (net.ipv6.conf.all.forwarding=0).
	ErrForwardingDisabled = errors.New("ipv6 forwarding disabled (set net.ipv6.conf.all.forwarding=1)")
)

// ValueError reports a bad configuration field or argument, naming it and
// the offending value.
type ValueError struct {
	Field  string // "Config.HomePrefix", "home address", ...
	Value  string
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("bad %s %q: %s", e.Field, e.Value, e.Reason)
}

func badValue(field string, value any, reason string) *ValueError {
	return &ValueError{Field: field, Value: fmt.Sprint(value), Reason: reason}
}

// FeatureError reports which kernel feature is missing. It matches
// ErrUnsupported with errors.Is.
type FeatureError struct {
	Feature string // e.g. "seg6local lightweight tunnels"
	Err     error  // the kernel's answer
}

func (e *FeatureError) Error() string {
	return fmt.Sprintf("kernel lacks %s: %v", e.Feature, e.Err)
}

func (e *FeatureError) Unwrap() []error { return []error{ErrUnsupported, e.Err} }
