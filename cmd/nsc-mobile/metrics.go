package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	mnchain "github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
)

// nsmMetrics are the mobile node's metrics in nsm mode.
type nsmMetrics struct {
	registry      *prometheus.Registry
	registrations prometheus.Counter
	requestToBA   prometheus.Histogram
}

func newNSMMetrics() *nsmMetrics {
	m := &nsmMetrics{
		registry: prometheus.NewRegistry(),
		registrations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "mip6_mn_nsm_registrations_total",
			Help: "Registrations the Home Agent accepted over NSM connections (the first, then one per heal or reselect that changed the care-of address).",
		}),
		requestToBA: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "mip6_mn_request_to_accepted_ba_seconds",
			Help:    "Time from the NSM Request reaching the mobile node's chain element to the accepted Binding Acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5 ms to about 10 s
		}),
	}
	m.registry.MustRegister(m.registrations, m.requestToBA)
	return m
}

// observe is a mobilenode.WithRegistered hook.
func (m *nsmMetrics) observe(_ mnchain.Attachment, took time.Duration) {
	m.registrations.Inc()
	m.requestToBA.Observe(took.Seconds())
}

// handler serves GET /metrics and hands every other path to status.
func (m *nsmMetrics) handler(status http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.Handle("/", status)
	return mux
}
