package nsmdomain_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/networkservicemesh/sdk/pkg/registry/common/dnsresolve"

	"github.com/mip6mesh/mip6mesh/internal/nsmdomain"
)

func TestResolverAnswersSRVAndAddress(t *testing.T) {
	r := nsmdomain.NewResolver()
	addr := netip.MustParseAddrPort("127.0.0.1:5002")
	r.Add(dnsresolve.DefaultRegistryService, "my.cluster3", addr)
	name := dnsresolve.DefaultRegistryService + ".my.cluster3"

	_, srvs, err := r.LookupSRV(context.Background(), "", "", name)
	if err != nil || len(srvs) != 1 || srvs[0].Port != addr.Port() {
		t.Fatalf("LookupSRV(%s) = %v, %v; want port %d", name, srvs, err, addr.Port())
	}
	ips, err := r.LookupIPAddr(context.Background(), name)
	if err != nil || len(ips) != 1 || ips[0].IP.String() != addr.Addr().String() {
		t.Fatalf("LookupIPAddr(%s) = %v, %v; want %s", name, ips, err, addr.Addr())
	}

	r.Remove(dnsresolve.DefaultRegistryService, "my.cluster3")
	if _, err := r.LookupIPAddr(context.Background(), name); !errors.Is(err, nsmdomain.ErrNotFound) {
		t.Errorf("after Remove: %v, want %v", err, nsmdomain.ErrNotFound)
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	dir := t.TempDir()
	long := "/tmp/" + strings.Repeat("x", 120)
	for name, cfg := range map[string]nsmdomain.Config{
		"no dir":                        {Credentials: nsmdomain.Insecure()},
		"no credentials":                {Dir: dir},
		"bad name":                      {Dir: dir, Credentials: nsmdomain.Insecure(), Name: "a@b"},
		"registry only, no resolver":    {Dir: dir, Credentials: nsmdomain.Insecure(), RegistryOnly: true},
		"socket path too long for unix": {Dir: long, Credentials: nsmdomain.Insecure()},
	} {
		if _, err := nsmdomain.New(context.Background(), cfg); !errors.Is(err, nsmdomain.ErrConfig) {
			t.Errorf("%s: %v, want %v", name, err, nsmdomain.ErrConfig)
		}
	}
}
