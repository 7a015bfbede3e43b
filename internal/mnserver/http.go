package mnserver

import (
	"encoding/json"
	"net/http"

	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// Report is a registration's Status as /status serves it: the error as
// text.
type Report struct {
	mobilenode.Status
	LastError string `json:"LastError,omitempty"`
}

// ReportOf returns s as a Report.
func ReportOf(s mobilenode.Status) Report {
	r := Report{Status: s}
	if s.LastError != nil {
		r.LastError = s.LastError.Error()
	}
	return r
}

// Handler serves GET /status (the registration as JSON) and /healthz.
func Handler(n *Node) http.Handler {
	return StatusHandler(func() any { return ReportOf(n.Status()) })
}

// StatusHandler serves GET /status (what status returns, as JSON) and
// /healthz.
func StatusHandler(status func() any) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(status())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
