package vwire

import (
	"context"
	"errors"
	"fmt"

	"github.com/golang/protobuf/ptypes/empty"
	"github.com/networkservicemesh/api/pkg/api/networkservice"
	"github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"

	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/networkservicemesh/sdk/pkg/tools/log"
	"github.com/networkservicemesh/sdk/pkg/tools/postpone"
)

// ClientEndKey is the kernel mechanism parameter that carries the client's
// end onward, as a handle into this process's table of client ends. The
// element sends the client's mechanism on without its interface name and
// netns URL:
//   - the endpoint then names its own end (every mobile node asks for
//     "nsm-1"; the Home Agent's namespace holds one interface per client);
//   - the client's namespace does not travel in the "inodeURL" parameter:
//     an inode:// URL there that crossed an nsmgr-proxy (which forwards no
//     descriptors) would make the next unix hop's recvfd wait for a
//     descriptor that never comes;
//   - nor as any name of a namespace: a client could make one up. The
//     handle is issued by the forwarder that received the client's
//     descriptor, and only a forwarder in this process can resolve it.
//
// A forwarder in another domain resolves the handle to find the client's end.
const ClientEndKey = "mip6mesh.io/client-end"

type vwireServer struct {
	opts options
}

// NewServer returns the forwarder's vWire element. Place it where the
// client's kernel mechanism is selected (inside mechanisms.NewServer for
// kernel.MECHANISM) and before connect; the chain needs metadata, and
// recvfd/sendfd on both sides so that namespaces arrive as descriptors.
func NewServer(opts ...Option) networkservice.NetworkServiceServer {
	return &vwireServer{opts: newOptions(opts)}
}

// clientEnd is what the request says about the client's end of the vWire.
type clientEnd struct {
	mech   *networkservice.Mechanism
	ifName string
	// netns is the file:// URL of the client's descriptor; empty when the
	// end was forwarded by another forwarder.
	netns string
	id    nsID
	// handle names the end in clientEnds: given by the previous forwarder,
	// or, when the client's descriptor came to this one, issued by bind.
	handle string
	// owned: this forwarder issued handle and removes it on Close.
	owned bool
}

func (s *vwireServer) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	client, err := clientEndOf(request)
	if err != nil {
		return nil, err
	}
	prev, refresh := load(ctx)
	if !refresh {
		prev = &state{}
	}
	issued, err := client.bind(prev.client)
	if err != nil {
		return nil, err
	}

	closeCtxFunc := postpone.ContextWithValues(ctx)
	out := outgoingRequest(request, onward(client, prev.downstreamIfName), refresh)
	conn, err := next.Server(ctx).Request(ctx, out)
	if err != nil {
		client.unbind(issued)
		return nil, err
	}

	st, err := s.establish(ctx, client, conn, prev)
	if err != nil {
		if !refresh {
			closeCtx, cancel := closeCtxFunc()
			defer cancel()
			_, _ = next.Server(closeCtx).Close(closeCtx, conn) // the error that matters is err
		}
		client.unbind(issued)
		return nil, err
	}
	if prev.client.handle != client.handle {
		prev.client.unbind(true) // a refresh with another client end
	}
	store(ctx, st)
	conn.Mechanism = client.mech.Clone()
	return conn, nil
}

func (s *vwireServer) Close(ctx context.Context, conn *networkservice.Connection) (*empty.Empty, error) {
	st, ok := loadAndDelete(ctx)
	var wireErr error
	out := conn
	if ok {
		if st.wire != nil {
			wireErr = st.wire.destroy()
		}
		out = conn.Clone()
		out.Mechanism = onward(st.client, st.downstreamIfName)
	}
	_, nextErr := next.Server(ctx).Close(ctx, out)
	if ok {
		// After next: a later forwarder's Close may still read the handle.
		st.client.unbind(true)
	}
	if err := errors.Join(wireErr, nextErr); err != nil {
		return nil, err
	}
	return &empty.Empty{}, nil
}

// clientEndOf reads the client's end from the client's kernel mechanism:
// the connection's (set by mechanisms.NewServer or by a refresh), else the
// first kernel preference.
func clientEndOf(request *networkservice.NetworkServiceRequest) (clientEnd, error) {
	m, err := selectClientMechanism(request)
	if err != nil {
		return clientEnd{}, err
	}
	mech := kernel.ToMechanism(m)
	c := clientEnd{mech: m, ifName: mech.GetInterfaceName(), netns: mech.GetNetNSURL()}
	if c.netns == "" {
		// No namespace of its own: the mechanism crossed an nsmgr-proxy from
		// the client's forwarder, which put a handle to the client's end in
		// its parameters (onward). Only a handle that forwarder issued
		// resolves, so a client cannot name another namespace this way.
		c.handle = mech.GetParameters()[ClientEndKey]
		if c.id, c.ifName, err = clientEnds.lookup(c.handle); err != nil {
			return clientEnd{}, fmt.Errorf("client end of connection %s: %w", request.GetConnection().GetId(), err)
		}
	} else if c.id, err = netNSID(c.netns); err != nil {
		return clientEnd{}, fmt.Errorf("client netns: %w", err)
	}
	if err := checkInterfaceName(c.ifName); err != nil {
		return clientEnd{}, fmt.Errorf("client interface: %w", err)
	}
	if err := notOwnNetNS(c.id); err != nil {
		return clientEnd{}, fmt.Errorf("client netns: %w", err)
	}
	return c, nil
}

// bind gives an end the client's descriptor came with a handle: prev's
// when it names the same end (a refresh), else a new entry that holds the
// namespace open. It reports whether it issued a new handle.
func (c *clientEnd) bind(prev clientEnd) (bool, error) {
	if c.netns == "" {
		return false, nil
	}
	c.owned = true
	if prev.owned && prev.id == c.id && prev.ifName == c.ifName {
		if _, _, err := clientEnds.lookup(prev.handle); err == nil {
			c.handle = prev.handle
			return false, nil
		}
	}
	ns, err := openNetNS(c.netns)
	if err != nil {
		return false, fmt.Errorf("client netns: %w", err)
	}
	if ns.id != c.id {
		ns.close()
		return false, fmt.Errorf("client netns %s: changed from %s to %s while opening it", c.netns, c.id, ns.id)
	}
	if c.handle, err = clientEnds.add(ns, c.ifName); err != nil {
		ns.close()
		return false, err
	}
	return true, nil
}

// unbind removes the end's handle when this forwarder issued it and when
// the caller says so.
func (c *clientEnd) unbind(remove bool) {
	if remove && c.owned && c.handle != "" {
		clientEnds.remove(c.handle)
	}
}

func selectClientMechanism(request *networkservice.NetworkServiceRequest) (*networkservice.Mechanism, error) {
	if m := request.GetConnection().GetMechanism(); m != nil {
		if kernel.ToMechanism(m) == nil {
			return nil, fmt.Errorf("%w: connection %s uses mechanism %s", ErrNoKernelMechanism, request.GetConnection().GetId(), m.GetType())
		}
		return m, nil
	}
	for _, m := range request.GetMechanismPreferences() {
		if kernel.ToMechanism(m) != nil {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w among the preferences of connection %s", ErrNoKernelMechanism, request.GetConnection().GetId())
}

func checkInterfaceName(name string) error {
	if name == "" || len(name) > kernel.LinuxIfMaxLength {
		return fmt.Errorf("%w %q: want 1 to %d bytes", ErrBadInterfaceName, name, kernel.LinuxIfMaxLength)
	}
	return nil
}

// onward is the mechanism passed to the next hop: the client's, with its
// end replaced by its handle in ClientEndKey, and the interface name the
// next hop chose before (none on a first request, so that the endpoint
// chooses one).
func onward(client clientEnd, downstreamIf string) *networkservice.Mechanism {
	m := client.mech.Clone()
	params := kernel.ToMechanism(m).GetParameters()
	delete(params, kernel.InterfaceNameKey)
	delete(params, kernel.NetNSURL)
	params[ClientEndKey] = client.handle
	if downstreamIf != "" {
		params[kernel.InterfaceNameKey] = downstreamIf
	}
	return m
}

func outgoingRequest(request *networkservice.NetworkServiceRequest, m *networkservice.Mechanism, refresh bool) *networkservice.NetworkServiceRequest {
	out := request.Clone()
	out.MechanismPreferences = []*networkservice.Mechanism{m}
	out.GetConnection().Mechanism = nil
	if refresh {
		out.GetConnection().Mechanism = m.Clone()
	}
	return out
}

// establish decides, from the mechanism the next hop returned, whether this
// forwarder owns the vWire, and if so makes it match conn's IP context.
func (s *vwireServer) establish(ctx context.Context, client clientEnd, conn *networkservice.Connection, prev *state) (*state, error) {
	returned := kernel.ToMechanism(conn.GetMechanism())
	if returned == nil {
		return nil, fmt.Errorf("%w: next hop of connection %s answered with mechanism %s",
			ErrNoKernelMechanism, conn.GetId(), conn.GetMechanism().GetType())
	}
	st := &state{client: client, downstreamIfName: returned.GetInterfaceName()}
	w, err := s.planWire(client, returned)
	if err != nil {
		return nil, err
	}
	if w == nil {
		log.FromContext(ctx).Debugf("vwire: connection %s: a later hop owns the vWire", conn.GetId())
		return st, destroyWire(prev)
	}
	if st.wire, err = s.ensureWire(w, prev, conn.GetContext().GetIpContext()); err != nil {
		return nil, err
	}
	log.FromContext(ctx).Debugf("vwire: connection %s: %s <-> %s", conn.GetId(), &st.wire.client, &st.wire.endpoint)
	return st, nil
}

// planWire opens both namespaces; it returns nil when the next hop answered
// with the client's own end (a later forwarder returns the mechanism it was
// given), i.e. when a later hop owns the vWire.
func (s *vwireServer) planWire(client clientEnd, returned *kernel.Mechanism) (*wire, error) {
	endpointURL := returned.GetNetNSURL()
	if endpointURL == "" {
		if h := returned.GetParameters()[ClientEndKey]; h != client.handle {
			return nil, fmt.Errorf("endpoint netns: the next hop answered with no namespace and client end %q, not this connection's: %w",
				h, ErrUnknownClientEnd)
		}
		return nil, nil
	}
	endpointID, err := netNSID(endpointURL)
	if err != nil {
		return nil, fmt.Errorf("endpoint netns: %w", err)
	}
	if endpointID == client.id {
		return nil, nil
	}
	if err := notOwnNetNS(endpointID); err != nil {
		return nil, fmt.Errorf("endpoint netns: %w", err)
	}
	endpointIf := returned.GetInterfaceName()
	if err := checkInterfaceName(endpointIf); err != nil {
		return nil, fmt.Errorf("endpoint interface: %w", err)
	}
	clientNS, err := clientEnds.openNS(client.handle)
	if err != nil {
		return nil, fmt.Errorf("client netns: %w", err)
	}
	endpointNS, err := openNetNS(endpointURL)
	if err != nil {
		clientNS.close()
		return nil, fmt.Errorf("endpoint netns: %w", err)
	}
	return &wire{
		client:   end{ns: clientNS, ifName: client.ifName},
		endpoint: end{ns: endpointNS, ifName: endpointIf},
	}, nil
}

// ensureWire makes w exist with the IP context applied. A refresh that
// names the same ends reuses the previous vWire (recreating it if it
// vanished); one that names other ends replaces it. A vWire this call
// created is deleted again if configuring it fails.
func (s *vwireServer) ensureWire(w *wire, prev *state, ipc *networkservice.IPContext) (*wire, error) {
	clientCfg, err := clientConfig(ipc)
	if err == nil {
		var endpointCfg endConfig
		if endpointCfg, err = endpointConfig(ipc); err == nil {
			return s.ensureConfigured(w, prev, clientCfg, endpointCfg)
		}
	}
	w.release()
	return nil, err
}

func (s *vwireServer) ensureConfigured(w *wire, prev *state, clientCfg, endpointCfg endConfig) (*wire, error) {
	if prev.wire != nil && prev.wire.sameEnds(w) {
		w.release()
		w = prev.wire
		intact, err := w.intact()
		if err != nil {
			return nil, err
		}
		if intact {
			err := w.configure(clientCfg, endpointCfg, s.opts.addressWait)
			return w, err
		}
		// Something deleted an end: start afresh with the same namespaces.
		prev.wire = nil
		if err := w.deleteLinks(); err != nil {
			w.release()
			return nil, err
		}
		w.client.applied, w.endpoint.applied = endConfig{}, endConfig{}
	} else if err := destroyWire(prev); err != nil {
		w.release()
		return nil, err
	}
	if err := w.create(); err != nil {
		w.release()
		return nil, err
	}
	if err := w.configure(clientCfg, endpointCfg, s.opts.addressWait); err != nil {
		return nil, errors.Join(err, w.destroy())
	}
	return w, nil
}

func destroyWire(prev *state) error {
	if prev.wire == nil {
		return nil
	}
	w := prev.wire
	prev.wire = nil
	return w.destroy()
}
