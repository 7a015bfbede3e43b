package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
)

const forwardingSysctl = "/proc/sys/net/ipv6/conf/all/forwarding"

// enableForwarding turns on IPv6 forwarding, which a Home Agent needs to
// pass decapsulated packets on, and returns what puts the old value back.
func enableForwarding(log *slog.Logger) (restore func() error, err error) {
	old, err := os.ReadFile(forwardingSysctl)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", forwardingSysctl, err)
	}
	if bytes.Equal(bytes.TrimSpace(old), []byte("1")) {
		return func() error { return nil }, nil
	}
	if err := writeSysctl([]byte("1")); err != nil {
		return nil, fmt.Errorf("enabling ipv6 forwarding: %w", err)
	}
	log.Info("enabled ipv6 forwarding; it is turned off again at shutdown")
	return func() error { return writeSysctl(old) }, nil
}

func writeSysctl(value []byte) error {
	return os.WriteFile(forwardingSysctl, value, 0o600) //nolint:gosec // a fixed /proc path, not user input
}
