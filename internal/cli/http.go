package cli

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ServeHTTP listens on addr and serves h until ctx is done; it returns
// once the listener is closed. The bound address is sent on bound.
func ServeHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger, bound chan<- net.Addr) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if bound != nil {
		bound <- ln.Addr()
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	log.Info("http endpoints listening", "address", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// CloseLogged runs closeFn at shutdown and logs how it went.
func CloseLogged(log *slog.Logger, what string, closeFn func() error) {
	if err := closeFn(); err != nil {
		log.Error("cleanup failed", "what", what, "error", err)
		return
	}
	log.Info("cleaned up", "what", what)
}
