package mobilenode

import (
	"log/slog"
	"time"
)

// DefaultTimeout bounds one Register or Deregister call.
const DefaultTimeout = 10 * time.Second

// Option configures the client element.
type Option func(*options)

type options struct {
	timeout time.Duration
	logger  *slog.Logger
}

// WithTimeout bounds each Register and Deregister call by d (default
// DefaultTimeout); d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
