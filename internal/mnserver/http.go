package mnserver

import (
	"encoding/json"
	"net/http"

	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// statusJSON is mobilenode.Status with its error as text.
type statusJSON struct {
	mobilenode.Status
	LastError string `json:"LastError,omitempty"`
}

// Handler serves GET /status (the registration as JSON) and /healthz.
func Handler(n *Node) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		s := statusJSON{Status: n.Status()}
		if s.Status.LastError != nil {
			s.LastError = s.Status.LastError.Error()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
