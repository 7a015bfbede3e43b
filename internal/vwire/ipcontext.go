package vwire

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
)

// route is a route through one end of the vWire; via is the zero Addr for
// an on-link route.
type route struct {
	dst netip.Prefix
	via netip.Addr
}

// endConfig is the IP configuration of one end of the vWire.
type endConfig struct {
	addrs  []netip.Prefix
	routes []route
}

// clientConfig is the client end's share of the IP context: the Src side.
func clientConfig(ipc *networkservice.IPContext) (endConfig, error) {
	return parseEndConfig(ipc.GetSrcIpAddrs(), ipc.GetSrcRoutes())
}

// endpointConfig is the endpoint end's share of the IP context: the Dst side.
func endpointConfig(ipc *networkservice.IPContext) (endConfig, error) {
	return parseEndConfig(ipc.GetDstIpAddrs(), ipc.GetDstRoutes())
}

func parseEndConfig(addrs []string, routes []*networkservice.Route) (endConfig, error) {
	var c endConfig
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return endConfig{}, fmt.Errorf("%w: address %q: %w", ErrBadIPContext, a, err)
		}
		c.addrs = appendNew(c.addrs, p)
	}
	for _, r := range routes {
		parsed, err := parseRoute(r)
		if err != nil {
			return endConfig{}, err
		}
		c.routes = appendNew(c.routes, parsed)
	}
	return c, nil
}

func parseRoute(r *networkservice.Route) (route, error) {
	dst, err := netip.ParsePrefix(r.GetPrefix())
	if err != nil {
		return route{}, fmt.Errorf("%w: route prefix %q: %w", ErrBadIPContext, r.GetPrefix(), err)
	}
	out := route{dst: dst.Masked()}
	if r.GetNextHop() != "" {
		if out.via, err = netip.ParseAddr(r.GetNextHop()); err != nil {
			return route{}, fmt.Errorf("%w: route %s next hop %q: %w", ErrBadIPContext, dst, r.GetNextHop(), err)
		}
	}
	return out, nil
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// missing returns the elements of have that want lacks.
func missing[T comparable](have, want []T) []T {
	var out []T
	for _, v := range have {
		if !slices.Contains(want, v) {
			out = append(out, v)
		}
	}
	return out
}
