// Command mip6demo shows mip6mesh at work, step by step: it builds a
// correspondent node, a Home Agent and a mobile node with two access links
// in network namespaces, starts nse-homeagent and nsc-mobile there,
// registers, pings the home address through the tunnel (and captures the
// tunnelled packets), hands over from one access link to the other under a
// 10 ms ping, shows the Home Agent's metrics, and shuts everything down,
// leaving nothing behind. It needs root. demo.sh builds and runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

type config struct {
	binDir string // where nse-homeagent and nsc-mobile are
	keep   bool   // keep the lab running until Ctrl-C before shutting down
}

func main() {
	var cfg config
	flag.StringVar(&cfg.binDir, "bin", "./bin", "directory holding nse-homeagent and nsc-mobile")
	flag.BoolVar(&cfg.keep, "keep", false, "leave the lab running after the demo until Ctrl-C, for poking around")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nmip6demo: FAILED: %v\n", err)
		if errors.Is(err, context.Canceled) {
			os.Exit(130)
		}
		os.Exit(1)
	}
}
