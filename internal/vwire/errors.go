package vwire

import "errors"

// Sentinel errors; the returned errors wrap them and name the bad value.
var (
	// ErrNoKernelMechanism: the request offers no kernel mechanism, or the
	// downstream answer does not carry one.
	ErrNoKernelMechanism = errors.New("no kernel mechanism")
	// ErrBadInterfaceName: an interface name is empty or longer than 15 bytes.
	ErrBadInterfaceName = errors.New("bad interface name")
	// ErrBadNetNSURL: a mechanism's netns URL is not a file:// URL (an
	// inode:// URL is not resolved: namespaces arrive as descriptors, or
	// from another forwarder as a client-end handle).
	ErrBadNetNSURL = errors.New("bad netns URL")
	// ErrUnknownClientEnd: a mechanism with no namespace names, in
	// ClientEndKey, a handle no forwarder of this process issued (or whose
	// connection is closed), or the next hop answered with another
	// connection's client end.
	ErrUnknownClientEnd = errors.New("unknown forwarded client end")
	// ErrNotNetNS: a netns URL names a file that is not a network namespace.
	ErrNotNetNS = errors.New("not a network namespace")
	// ErrLinkExists: an interface the vWire needs is already taken by
	// something this connection did not create.
	ErrLinkExists = errors.New("interface already exists")
	// ErrBadIPContext: an address or route of the IP context does not parse.
	ErrBadIPContext = errors.New("bad IP context")
	// ErrOwnNetNS: a mechanism names the forwarder's own network namespace
	// (on one machine, the host's) as a client's or an endpoint's; no
	// vWire end is ever put there.
	ErrOwnNetNS = errors.New("the forwarder's own network namespace")
)
