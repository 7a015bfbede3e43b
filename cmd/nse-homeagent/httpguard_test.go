package main

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestHTTPEndpointsRefuseNSMClients: a request from a vWire address is
// refused; from elsewhere (the kubelet, Prometheus, localhost) it is served.
func TestHTTPEndpointsRefuseNSMClients(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	h := refuseClientsOf(netip.MustParsePrefix("fd00:6d36::/64"), ok)
	for remote, want := range map[string]int{
		"[fd00:6d36::3]:40000":  http.StatusForbidden,
		"[2001:db8:f::2]:40000": http.StatusOK,
		"127.0.0.1:40000":       http.StatusOK,
		"[::1]:40000":           http.StatusOK,
	} {
		req := httptest.NewRequest(http.MethodGet, "/bindings", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("GET /bindings from %s: %d, want %d", remote, rec.Code, want)
		}
	}
}
