package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/lab"
	"github.com/mip6mesh/mip6mesh/internal/nsmlab"
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

func TestNSMPictureShowsTheNSMLab(t *testing.T) {
	want := []string{
		nsmlab.HomePrefix.String(), nsmlab.CNAddr.String(), nsmlab.HAAddr(1).String(), nsmlab.HAAddr(2).String(),
		nsmlab.VWirePrefix(1).String(), nsmlab.VWirePrefix(2).String(),
		nsmlab.HomeBridge, nsmlab.HAHomeLink, nsmlab.VWire,
		nsmlab.EndpointName(1), nsmlab.EndpointName(2), nsmlab.ClientName(1), nsmlab.ClientName(2),
	}
	want = append(want, (&nsmlab.DevIdentities{}).ID(nsmlab.MobileNodeWorkload(1)).String())
	for _, s := range want {
		if !shows(nsmPicture, s) {
			t.Errorf("the NSM picture lacks %s", s)
		}
	}
}

// shows reports whether s stands in the picture as a word of its own:
// between blanks, box edges or line ends, perhaps followed by a comma.
func shows(picture, s string) bool {
	return regexp.MustCompile(`(?m)(^|[ |])` + regexp.QuoteMeta(s) + `($|[ |,])`).MatchString(picture)
}
