package vwire

import "time"

// DefaultAddressWait bounds how long a Request waits for the kernel to make
// the addresses it added usable (their local routes appear from a work
// queue shortly after the netlink request returns).
const DefaultAddressWait = 2 * time.Second

type options struct {
	addressWait time.Duration
}

// Option configures the element.
type Option func(*options)

// WithAddressWait sets how long a Request waits for added addresses to
// become usable before it fails (DefaultAddressWait if d <= 0).
func WithAddressWait(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.addressWait = d
		}
	}
}

func newOptions(opts []Option) options {
	o := options{addressWait: DefaultAddressWait}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}
