package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/kelseyhightower/envconfig"
)

// Prefix is the environment variable prefix: NSM_NAME, NSM_HOME_PREFIX, ...
const Prefix = "nsm"

// ErrHelp is returned by Load when --help was asked for and printed.
var ErrHelp = errors.New("help requested")

// Load fills spec from the environment. With -h or --help among args it
// prints about, then every variable with its default and description, and
// returns ErrHelp; any other argument is an error, since configuration is
// by environment only.
func Load(spec any, about string, args []string, out io.Writer) error {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			if _, err := fmt.Fprintf(out, "%s\n\nConfiguration is read from these environment variables:\n\n", about); err != nil {
				return err
			}
			if err := Usage(spec, out); err != nil {
				return err
			}
			return ErrHelp
		default:
			return fmt.Errorf("unknown argument %q: configuration is by environment variables, see --help", a)
		}
	}
	if err := envconfig.Process(Prefix, spec); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}

// Usage prints the variables of spec as a table.
func Usage(spec any, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	const format = "{{range .}}  {{usage_key .}}\t{{usage_type .}}\t{{if usage_required .}}(required){{else}}{{usage_default .}}{{end}}\t{{usage_description .}}\n{{end}}"
	if _, err := fmt.Fprintln(tw, "  VARIABLE\tTYPE\tDEFAULT\tDESCRIPTION"); err != nil {
		return err
	}
	if err := envconfig.Usagef(Prefix, spec, tw, format); err != nil {
		return err
	}
	return tw.Flush()
}

// Logger returns a text logger on w at level (DEBUG, INFO, WARN, ERROR).
func Logger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("log level %q: want DEBUG, INFO, WARN or ERROR", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Exit prints err and exits: 0 for ErrHelp, 1 otherwise.
func Exit(name string, err error) {
	if errors.Is(err, ErrHelp) {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// Variables returns the names of spec's environment variables.
func Variables(spec any) ([]string, error) {
	var sb strings.Builder
	if err := envconfig.Usagef(Prefix, spec, &sb, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		return nil, err
	}
	return strings.Fields(sb.String()), nil
}

// Daemon is a binary's configuration: filled from the environment, it
// names its log level.
type Daemon interface {
	LogLevelName() string
}

// Main is both binaries' main: it loads cfg (or prints --help), makes the
// logger, and calls run until SIGINT or SIGTERM. It exits 1 when run fails.
func Main(name, about string, cfg Daemon, run func(context.Context, *slog.Logger) error) {
	if err := Load(cfg, about, os.Args[1:], os.Stdout); err != nil {
		Exit(name, err)
	}
	log, err := Logger(cfg.LogLevelName(), os.Stderr)
	if err != nil {
		Exit(name, err)
	}
	if err := runUntilSignalled(log, run); err != nil {
		log.Error(name+" stopped", "error", err)
		os.Exit(1)
	}
}

func runUntilSignalled(log *slog.Logger, run func(context.Context, *slog.Logger) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, log)
}
