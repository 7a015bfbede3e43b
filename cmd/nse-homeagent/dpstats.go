package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
)

// registerDataPlaneStats exports the packet counters of a data plane that
// keeps them (the bpf driver) as mip6_dataplane_packets_total{event}.
func registerDataPlaneStats(reg prometheus.Registerer, dp dataplane.HomeAgent, log *slog.Logger) {
	sr, ok := dp.(bpf.StatsReader)
	if !ok {
		return
	}
	events := map[string]func(bpf.Stats) uint64{
		"encapsulated": func(s bpf.Stats) uint64 { return s.Encapsulated },
		"no_binding":   func(s bpf.Stats) uint64 { return s.NoBinding },
		"encap_failed": func(s bpf.Stats) uint64 { return s.EncapFailed },
		"decapsulated": func(s bpf.Stats) uint64 { return s.Decapsulated },
		"refused":      func(s bpf.Stats) uint64 { return s.Refused },
		"malformed":    func(s bpf.Stats) uint64 { return s.Malformed },
	}
	for event, field := range events {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "mip6_dataplane_packets_total",
			Help:        "Packets the data plane's programs handled, by what happened to them.",
			ConstLabels: prometheus.Labels{"event": event},
		}, func() float64 {
			s, err := sr.Stats()
			if err != nil {
				log.Warn("reading data-plane counters", "error", err)
				return 0
			}
			return float64(field(s))
		}))
	}
}
