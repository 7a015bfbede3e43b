package bootstrap

import (
	"errors"
	"fmt"
	"net/netip"
)

// The ExtraContext keys.
const (
	KeyHomeAddress = "mip6mesh.io/home-address"
	KeyHomeAgent   = "mip6mesh.io/home-agent"
	KeyHomePrefix  = "mip6mesh.io/home-prefix"
)

// ErrBootstrap is the cause of every error of Get.
var ErrBootstrap = errors.New("no usable home agent bootstrap in the connection's extra context")

// Bootstrap is what the Home Agent tells the mobile node.
type Bootstrap struct {
	HomeAddress netip.Addr
	HomeAgent   netip.Addr
	HomePrefix  netip.Prefix
}

// Put writes b into extra, replacing earlier values.
func (b Bootstrap) Put(extra map[string]string) {
	extra[KeyHomeAddress] = b.HomeAddress.String()
	extra[KeyHomeAgent] = b.HomeAgent.String()
	extra[KeyHomePrefix] = b.HomePrefix.String()
}

// Get reads a Bootstrap from extra. The error names the missing or bad key.
func Get(extra map[string]string) (Bootstrap, error) {
	var b Bootstrap
	var err error
	if b.HomeAddress, err = getAddr(extra, KeyHomeAddress); err != nil {
		return Bootstrap{}, err
	}
	if b.HomeAgent, err = getAddr(extra, KeyHomeAgent); err != nil {
		return Bootstrap{}, err
	}
	if b.HomePrefix, err = getPrefix(extra); err != nil {
		return Bootstrap{}, err
	}
	if !b.HomePrefix.Contains(b.HomeAddress) {
		return Bootstrap{}, fmt.Errorf("%w: %s %s is outside %s %s", ErrBootstrap, KeyHomeAddress, b.HomeAddress, KeyHomePrefix, b.HomePrefix)
	}
	return b, nil
}

func lookup(extra map[string]string, key string) (string, error) {
	v, ok := extra[key]
	if !ok {
		return "", fmt.Errorf("%w: no %q", ErrBootstrap, key)
	}
	return v, nil
}

func getAddr(extra map[string]string, key string) (netip.Addr, error) {
	v, err := lookup(extra, key)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is6() || a.Is4In6() || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: %q is %q, not an IPv6 address", ErrBootstrap, key, v)
	}
	return a, nil
}

func getPrefix(extra map[string]string) (netip.Prefix, error) {
	v, err := lookup(extra, KeyHomePrefix)
	if err != nil {
		return netip.Prefix{}, err
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%w: %q is %q, not a masked IPv6 prefix", ErrBootstrap, KeyHomePrefix, v)
	}
	return p, nil
}
