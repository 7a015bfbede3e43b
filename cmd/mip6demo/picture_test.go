package main

import (
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/lab"
)

func TestPictureShowsTheLab(t *testing.T) {
	want := []string{
		lab.CNAddr.String(), lab.HAHomeSide.String(), lab.HAAddr.String(), lab.HomePrefix.String(), lab.HoA.String(),
		lab.Router1.String(), lab.Router2.String(), lab.CoA1.String(), lab.CoA2.String(),
		lab.CNLink, lab.HAHomeLink, lab.HALink1, lab.HALink2, lab.MNLink1, lab.MNLink2,
	}
	for _, s := range want {
		if !strings.Contains(picture, " "+s+" ") {
			t.Errorf("the picture lacks %s", s)
		}
	}
}
