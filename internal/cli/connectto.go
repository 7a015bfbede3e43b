package cli

import (
	"fmt"
	"net/url"
)

// CheckConnectTo accepts the NSM_CONNECT_TO URLs the sdk's grpcutils
// dials: unix:///path and tcp://host:port.
func CheckConnectTo(u *url.URL) error {
	switch {
	case u.Scheme == "unix" && u.Path != "":
	case u.Scheme == "tcp" && u.Host != "":
	default:
		return fmt.Errorf("NSM_CONNECT_TO %q: want unix:///path or tcp://host:port", u.String())
	}
	return nil
}
