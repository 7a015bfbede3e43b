// Package cli holds what both binaries do the same way: configuration from
// NSM_* environment variables (envconfig, the NSM convention), --help that
// lists them, and a structured logger at a configured level.
package cli
