package haserver

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Metrics are the Home Agent's Prometheus metrics. It implements
// homeagent.Observer.
type Metrics struct {
	bindings      prometheus.Gauge
	updates       *prometheus.CounterVec
	processing    prometheus.Histogram
	latency       prometheus.Histogram
	received      *prometheus.CounterVec
	decodeErrors  *prometheus.CounterVec
	bindingErrors *prometheus.CounterVec
	Registry      *prometheus.Registry
}

// latencyBuckets span 10 µs to about 1.3 s.
var latencyBuckets = prometheus.ExponentialBuckets(10e-6, 2, 18)

// NewMetrics registers the metrics with reg, or with a new registry when
// reg is nil.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		Registry: reg,
		bindings: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mip6_bindings",
			Help: "Bindings in the binding cache."}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mip6_binding_updates_total",
			Help: "Binding Updates processed, by BA status answered (\"dropped\" when discarded)."}, []string{"status"}),
		processing: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mip6_binding_update_processing_seconds",
			Help: "Time to process a Binding Update, data-plane programming included.", Buckets: latencyBuckets}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "mip6_registration_latency_seconds",
			Help: "Time from receiving a Binding Update to sending its Binding Acknowledgement.", Buckets: latencyBuckets}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mip6_mobility_headers_received_total",
			Help: "Mobility Header messages received that passed the receive checks, by type."}, []string{"type"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mip6_receive_errors_total",
			Help: "Packets that failed a receive check, by cause."}, []string{"cause"}),
		bindingErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mip6_binding_errors_sent_total",
			Help: "Binding Errors sent, by status."}, []string{"status"}),
	}
	reg.MustRegister(m.bindings, m.updates, m.processing, m.latency, m.received, m.decodeErrors, m.bindingErrors)
	return m
}

// Processed implements homeagent.Observer.
func (m *Metrics) Processed(status mh.Status, dropped bool, took time.Duration) {
	label := strconv.Itoa(int(status))
	if dropped {
		label = "dropped"
	}
	m.updates.WithLabelValues(label).Inc()
	m.processing.Observe(took.Seconds())
}

// BindingsChanged implements homeagent.Observer.
func (m *Metrics) BindingsChanged(n int) { m.bindings.Set(float64(n)) }
