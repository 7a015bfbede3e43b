// Command mip6demo shows mip6mesh at work, step by step, with the real
// nse-homeagent and nsc-mobile daemons in network namespaces. It needs
// root; demo.sh builds the binaries and runs it.
//
// The default story (--mode nsm) is the product's path through Network
// Service Mesh (internal/nsmlab): an in-process NSM domain (registry,
// nsmgr, our veth forwarder) with SPIFFE identities from a development CA,
// two Home Agent instances as NSM endpoints, a mobile node as an NSM client
// that gets its vWire, care-of address and home address from the
// connection and registers over it, a correspondent on the home link
// pinging the home address, the move to the other Home Agent instance when
// the serving one's pod is deleted, a second identity with its own home
// address, the metrics, and a clean shutdown. --interdomain runs it across
// floating interdomain (client domain, endpoint domain, floating registry).
//
// --mode standalone tells the story without NSM (internal/lab): a mobile
// node with two access links, registration, the tunnel with its packets
// captured, a handover between the links under a 10 ms ping, and shutdown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// The stories --mode chooses from.
const (
	modeNSM        = "nsm"
	modeStandalone = "standalone"
)

type config struct {
	binDir      string // where nse-homeagent and nsc-mobile are
	mode        string // modeNSM or modeStandalone
	interdomain bool   // NSM across floating interdomain
	keep        bool   // keep the lab running until Ctrl-C before shutting down
	verbose     bool   // also print the NSM sdk's log lines
}

func main() {
	cfg, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		os.Exit(2) // the flag package has printed why
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nmip6demo: FAILED: %v\n", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config; a bad flag or
// combination is an error that fs has already printed with the usage.
func parseFlags(fs *flag.FlagSet, args []string) (config, error) {
	var cfg config
	fs.StringVar(&cfg.binDir, "bin", "./bin", "directory holding nse-homeagent and nsc-mobile")
	fs.StringVar(&cfg.mode, "mode", modeNSM, "the story: "+modeNSM+" (through Network Service Mesh) or "+modeStandalone+" (two access links, no NSM)")
	fs.BoolVar(&cfg.interdomain, "interdomain", false, "with --mode nsm: client and Home Agents in two NSM domains joined by a floating registry")
	fs.BoolVar(&cfg.verbose, "verbose", false, "with --mode nsm: also print the NSM sdk's own log lines (the in-process domain's and the daemons')")
	fs.BoolVar(&cfg.keep, "keep", false, "leave the lab running after the demo until Ctrl-C, for poking around")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.mode != modeNSM && cfg.mode != modeStandalone:
		err = fmt.Errorf("--mode %q: want %s or %s", cfg.mode, modeNSM, modeStandalone)
	case cfg.interdomain && cfg.mode != modeNSM:
		err = fmt.Errorf("--interdomain needs --mode %s, not %s", modeNSM, cfg.mode)
	}
	if err != nil {
		_, _ = fmt.Fprintf(fs.Output(), "%v\n", err)
		fs.Usage()
	}
	return cfg, err
}

// run tells the story cfg chooses.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates network namespaces (run: sudo ./demo.sh)")
	}
	for _, bin := range []string{lab.HomeAgentBinary, lab.MobileNodeBinary} {
		if _, err := os.Stat(filepath.Join(cfg.binDir, bin)); err != nil {
			return fmt.Errorf("%s not found in --bin %s (demo.sh builds it): %w", bin, cfg.binDir, err)
		}
	}
	if cfg.mode == modeStandalone {
		return runStandalone(ctx, cfg, out)
	}
	return runNSM(ctx, cfg, out)
}
