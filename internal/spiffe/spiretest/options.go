package spiretest

import "github.com/spiffe/go-spiffe/v2/spiffeid"

// DefaultTrustDomain is the trust domain of the test SPIRE.
var DefaultTrustDomain = spiffeid.RequireTrustDomainFromString("mip6mesh.test")

type config struct {
	td      spiffeid.TrustDomain
	entries []Entry
}

// Option configures Start.
type Option func(*config)

// WithTrustDomain sets the trust domain (default DefaultTrustDomain).
func WithTrustDomain(td spiffeid.TrustDomain) Option { return func(c *config) { c.td = td } }

// WithEntries registers entries before the agent starts, so the agent has
// them at its first sync.
func WithEntries(entries ...Entry) Option {
	return func(c *config) { c.entries = append(c.entries, entries...) }
}
