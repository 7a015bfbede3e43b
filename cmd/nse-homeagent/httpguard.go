package main

import (
	"net"
	"net/http"
	"net/netip"
)

// refuseClientsOf answers 403 to requests from an address in vwires: in
// nsm mode the HTTP endpoints may listen on every address, the vWires'
// included, and a mobile node must not read every binding (every other
// mobile node's home and care-of addresses) from /bindings.
func refuseClientsOf(vwires netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fromPrefix(r.RemoteAddr, vwires) {
			http.Error(w, "forbidden: the Home Agent's HTTP endpoints are not for its NSM clients", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func fromPrefix(remote string, p netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err == nil && p.Contains(a.WithZone("").Unmap())
}
