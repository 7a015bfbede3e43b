package nsmdomain

import "errors"

// Sentinel errors; the returned errors wrap them and name the bad value.
var (
	// ErrConfig: a Config or InterdomainConfig is incomplete or invalid.
	ErrConfig = errors.New("bad nsm domain config")
	// ErrNotFound: the Resolver has no entry for a name.
	ErrNotFound = errors.New("no such name")
)
