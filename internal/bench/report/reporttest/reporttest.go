// Package reporttest holds the checks every benchmark suite's tests make
// of their report.Result.
package reporttest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/bench/report"
)

// Figure returns res's figure id, failing the test when it is missing,
// and checks that res survives the JSON round trip results.json makes:
// decoded again, it reports the same figures.
func Figure[T any, PT interface {
	*T
	report.Result
}](t *testing.T, res T, id string) report.Figure {
	t.Helper()
	figs := PT(&res).Figures()
	i := slices.IndexFunc(figs, func(f report.Figure) bool { return f.ID == id })
	if i < 0 {
		t.Fatalf("no figure %s in %+v", id, figs)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	back, err := report.DecodeAs[T, PT]()(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Figures(); !reflect.DeepEqual(got, figs) {
		t.Errorf("figures after a JSON round trip:\n got %+v\nwant %+v", got, figs)
	}
	return figs[i]
}
