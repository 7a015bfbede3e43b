package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
	mnchain "github.com/mip6mesh/mip6mesh/internal/chain/mobilenode"
	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/seg6"
	"github.com/mip6mesh/mip6mesh/internal/mhio"
	"github.com/mip6mesh/mip6mesh/internal/mnserver"
	"github.com/mip6mesh/mip6mesh/internal/mobilenode"
)

// stack is a running mobile node for one bootstrap (home address, home
// agent, home prefix): its data plane, signalling sockets, mnserver.Node
// and the Node's receive loop.
type stack struct {
	boot bootstrap.Bootstrap
	node *mnserver.Node
	// close stops the receive loop and removes the stack's kernel state.
	close func() error
}

// stackBuilder builds the stack for a bootstrap; tests replace it.
type stackBuilder func(ctx context.Context, boot bootstrap.Bootstrap) (*stack, error)

// registrar implements mnchain.Registrar over mnserver: the first
// Register builds the mobile node for the bootstrap the home agent sent,
// each Register moves it to the connection's care-of address and waits
// for the Home Agent's answer.
type registrar struct {
	build stackBuilder
	log   *slog.Logger

	mu     sync.Mutex // serialises Register, Deregister and Close
	stack  *stack
	closed bool

	viewMu      sync.Mutex // what /status shows; never held while waiting
	node        *mnserver.Node
	current     mnchain.Attachment
	lastLatency time.Duration // Request to accepted BA, of the last registration
	registered  int           // registrations accepted over NSM connections
}

var _ mnchain.Registrar = (*registrar)(nil)

func newRegistrar(build stackBuilder, log *slog.Logger) *registrar {
	return &registrar{build: build, log: log}
}

// Register implements mnchain.Registrar.
func (r *registrar) Register(ctx context.Context, at mnchain.Attachment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return mobilenode.ErrClosed
	}
	if r.stack != nil && r.stack.boot != at.Bootstrap {
		r.log.Info("the home agent sent another bootstrap; rebuilding the mobile node",
			"home_address", at.HomeAddress, "home_agent", at.HomeAgent, "previous_home_address", r.stack.boot.HomeAddress,
			"previous_home_agent", r.stack.boot.HomeAgent)
		if err := r.teardown(); err != nil {
			r.log.Error("cleanup failed", "what", "previous mobile node", "error", err)
		}
	}
	if r.stack == nil {
		st, err := r.build(ctx, at.Bootstrap)
		if err != nil {
			return err
		}
		r.stack = st
		r.show(st.node, mnchain.Attachment{})
	}
	node := r.stack.node
	if err := node.Attach(ctx, dataplane.Attachment{CoA: at.CareOf, Interface: at.Interface}); err != nil {
		return err
	}
	r.show(node, at)
	return node.WaitRegistered(ctx, at.CareOf)
}

// Deregister implements mnchain.Registrar.
func (r *registrar) Deregister(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stack == nil {
		return nil
	}
	r.show(r.stack.node, mnchain.Attachment{})
	return r.stack.node.Deregister(ctx)
}

// Close removes the mobile node's kernel state; it does not deregister.
func (r *registrar) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return r.teardown()
}

func (r *registrar) teardown() error {
	if r.stack == nil {
		return nil
	}
	err := r.stack.close()
	r.stack = nil
	return err
}

func (r *registrar) show(node *mnserver.Node, at mnchain.Attachment) {
	r.viewMu.Lock()
	defer r.viewMu.Unlock()
	r.node, r.current = node, at
}

// observeRegistered is the mobilenode element's WithRegistered hook.
func (r *registrar) observeRegistered(_ mnchain.Attachment, took time.Duration) {
	r.viewMu.Lock()
	defer r.viewMu.Unlock()
	r.lastLatency = took
	r.registered++
}

// connectionView is the NSM connection as /status shows it.
type connectionView struct {
	ID          string
	CareOf      netip.Addr `json:",omitzero"`
	Interface   string     `json:",omitempty"`
	HomeAddress netip.Addr `json:",omitzero"`
	HomeAgent   netip.Addr `json:",omitzero"`
	// Registrations counts the registrations accepted over NSM
	// connections (the first, then one per heal or reselect that changed
	// the care-of address); RequestToAcceptedBA is the time the last one
	// took from the Request reaching the mobile node's chain element to
	// the Home Agent's accepted Binding Acknowledgement.
	Registrations       int           `json:",omitempty"`
	RequestToAcceptedBA time.Duration `json:",omitzero"`
}

// nsmStatus is /status in nsm mode: the registration (none before the
// first connection) and the connection it runs over.
type nsmStatus struct {
	Registration *mnserver.Report
	Connection   connectionView
}

func (r *registrar) status(connectionID string) nsmStatus {
	r.viewMu.Lock()
	node, at, took, n := r.node, r.current, r.lastLatency, r.registered
	r.viewMu.Unlock()
	s := nsmStatus{Connection: connectionView{ID: connectionID, CareOf: at.CareOf, Interface: at.Interface,
		HomeAddress: at.HomeAddress, HomeAgent: at.HomeAgent, Registrations: n, RequestToAcceptedBA: took}}
	if node != nil {
		rep := mnserver.ReportOf(node.Status())
		s.Registration = &rep
	}
	return s
}

// kernelStack builds the seg6 mobile node data plane, the signalling
// sockets (on every interface: vWires come and go) and the mnserver.Node.
func kernelStack(cfg Config, log *slog.Logger) stackBuilder {
	return func(ctx context.Context, boot bootstrap.Bootstrap) (*stack, error) {
		log.Info("starting the mobile node", "home_address", boot.HomeAddress, "home_agent", boot.HomeAgent,
			"home_prefix", boot.HomePrefix, "lifetime", cfg.Lifetime)
		dp, err := seg6.NewMobileNode(dataplane.Config{Instance: cfg.Instance, HomeAgent: boot.HomeAgent,
			HomePrefix: boot.HomePrefix, HomeAddress: boot.HomeAddress})
		if err != nil {
			return nil, fmt.Errorf("data plane: %w", err)
		}
		if err := dp.Start(ctx); err != nil {
			return nil, errors.Join(fmt.Errorf("data plane: %w", err), dp.Close())
		}
		conn, err := mhio.Open(ctx, mhio.Config{Instance: cfg.Instance, Mode: cfg.mhMode(), Logger: log})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("mobility header i/o: %w", err), dp.Close())
		}
		return startStack(boot, mnserver.Config{Conn: conn, DataPlane: dp, Logger: log,
			Registration: mobilenode.Config{HomeAddress: boot.HomeAddress, HomeAgent: boot.HomeAgent, Lifetime: cfg.Lifetime}},
			log, conn.Close, dp.Close)
	}
}

// startStack starts a Node and its receive loop; closers run after the
// Node is closed, in order.
func startStack(boot bootstrap.Bootstrap, cfg mnserver.Config, log *slog.Logger, closers ...func() error) (*stack, error) {
	closeAll := func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	node, err := mnserver.New(cfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("mobile node: %w", err), closeAll())
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := node.Serve(ctx); err != nil {
			log.Error("mobile node receive loop failed; binding acknowledgements are no longer read", "error", err)
		}
	}()
	closeStack := func() error {
		stop()
		<-served
		node.Close()
		return closeAll()
	}
	return &stack{boot: boot, node: node, close: closeStack}, nil
}
