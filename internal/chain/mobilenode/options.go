package mobilenode

import (
	"log/slog"
	"time"
)

// DefaultTimeout bounds one Register call.
const DefaultTimeout = 10 * time.Second

// DefaultDeregisterTimeout bounds the deregistration on Close. It is short
// because Close is also the first half of a heal with reselect, when the
// Home Agent may be gone: the reselected connection waits for it. A
// deregistration that times out costs nothing lasting, since the Home
// Agent's element removes the binding when the connection closes there,
// and otherwise it expires.
const DefaultDeregisterTimeout = time.Second

// Option configures the client element.
type Option func(*options)

type options struct {
	timeout           time.Duration
	deregisterTimeout time.Duration
	logger            *slog.Logger
	registered        func(Attachment, time.Duration)
}

// WithTimeout bounds each Register call by d (default DefaultTimeout);
// d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithDeregisterTimeout bounds the deregistration on Close by d (default
// DefaultDeregisterTimeout); d <= 0 keeps the default.
func WithDeregisterTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.deregisterTimeout = d
		}
	}
}

// WithRegistered calls f after each accepted registration with the
// attachment and the time from the Request reaching the element to the
// accepted Binding Acknowledgement (the NSM path, the vWire and the BU/BA
// exchange), for metrics.
func WithRegistered(f func(at Attachment, took time.Duration)) Option {
	return func(o *options) { o.registered = f }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
