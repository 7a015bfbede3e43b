package bpf_test

import (
	"errors"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/bpf"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/dptest"
	"github.com/mip6mesh/mip6mesh/internal/netnstest"
)

func TestMain(m *testing.M) { netnstest.Main(m) }

func startHomeAgent(t testing.TB, cfg dataplane.Config) dataplane.HomeAgent {
	t.Helper()
	ha, err := bpf.NewHomeAgent(cfg)
	dptest.Must(t, err)
	dptest.Must(t, ha.Start(t.Context()))
	return ha
}

func stats(t *testing.T, ha dataplane.HomeAgent) bpf.Stats {
	t.Helper()
	s, err := readStats(ha)
	dptest.Must(t, err)
	return s
}

func readStats(ha dataplane.HomeAgent) (bpf.Stats, error) {
	r, ok := ha.(bpf.StatsReader)
	if !ok {
		return bpf.Stats{}, errors.New("not a bpf.StatsReader")
	}
	return r.Stats()
}
