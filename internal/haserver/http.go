package haserver

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
)

// Handler serves GET /bindings (the binding cache as JSON), /metrics and
// /healthz.
func Handler(ha *homeagent.HomeAgent, m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bindings", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ha.Bindings())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
