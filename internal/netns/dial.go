package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
)

// DialContext connects to address from inside the namespace: "localhost"
// is the namespace's loopback, and the socket stays in the namespace for
// its whole life, whichever thread uses it later. The host name is
// resolved in the caller's namespace (it only reads /etc/hosts for names
// like localhost); the addresses are then tried one after the other, each
// socket created on a thread inside the namespace.
func (ns *NS) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s in %s: %w", address, ns.name, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s in %s: port: %w", address, ns.name, err)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s in %s: %w", address, ns.name, err)
	}
	var errs []error
	for _, a := range addrs {
		target := netip.AddrPortFrom(a.Unmap(), uint16(port)).String()
		var conn net.Conn
		// A literal address: the dial creates its socket on this thread
		// and starts no resolver or fallback goroutines.
		err := ns.Do(func() error {
			var err error
			conn, err = (&net.Dialer{}).DialContext(ctx, network, target)
			return err
		})
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("dial %s in %s: %w", address, ns.name, errors.Join(errs...))
}

// HTTPClient returns an HTTP client whose connections are made inside the
// namespace (see DialContext). It keeps no idle connections, so it leaves
// no goroutines behind.
func (ns *NS) HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:       ns.DialContext,
		DisableKeepAlives: true,
		Proxy:             nil, // never a proxy from the environment: the target is local to the namespace
	}}
}
