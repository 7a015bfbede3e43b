package homeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/networkservicemesh/api/pkg/api/networkservice"
	kernelmech "github.com/networkservicemesh/api/pkg/api/networkservice/mechanisms/kernel"
	"github.com/networkservicemesh/sdk/pkg/networkservice/core/next"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mip6mesh/mip6mesh/internal/chain/bootstrap"
	"github.com/mip6mesh/mip6mesh/internal/identity"
)

// Bindings is the part of the Home Agent core the element needs
// (implemented by *homeagent.HomeAgent).
type Bindings interface {
	// RemoveAt removes hoa's binding if it is still at coa and reports
	// whether it did.
	RemoveAt(ctx context.Context, hoa, coa netip.Addr) (bool, error)
}

// Config is what the element tells clients besides their home address.
type Config struct {
	HomeAgent  netip.Addr   // the Home Agent's address
	HomePrefix netip.Prefix // the home prefix
	// Identify tells who the client of a requested connection is. Use
	// VerifiedIdentity: the token of the client's path segment alone can
	// name anyone (see identity.Verify). nil refuses every Request, so that
	// an endpoint built without it never trusts an unproved claim.
	Identify IdentifyFunc
	Logger   *slog.Logger // nil: slog.Default()
}

// IdentifyFunc returns the identity of the client of conn, the connection
// of a Request as it reached the element.
type IdentifyFunc func(conn *networkservice.Connection) (spiffeid.ID, error)

// VerifiedIdentity identifies the client by the SVID proof it sent with
// the Request, checked against bundles (identity.Verify).
func VerifiedIdentity(bundles x509bundle.Source) IdentifyFunc {
	return func(conn *networkservice.Connection) (spiffeid.ID, error) {
		return identity.Verify(conn.GetPath(), conn.GetContext().GetExtraContext(), bundles)
	}
}

// errNoIdentify: the element was built without Config.Identify.
var errNoIdentify = errors.New("the home agent element has no way to identify clients (Config.Identify is nil)")

type server struct {
	reg      *Registry
	bindings Bindings
	cfg      Config
}

// NewServer returns the endpoint chain element; reg must also be the
// Home Agent core's Authorizer, and b the core.
func NewServer(reg *Registry, b Bindings, cfg Config) networkservice.NetworkServiceServer {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &server{reg: reg, bindings: b, cfg: cfg}
}

func (s *server) Request(ctx context.Context, request *networkservice.NetworkServiceRequest) (*networkservice.Connection, error) {
	conn := request.GetConnection()
	rec, err := s.recordOf(conn)
	consumeProof(conn)
	if err != nil {
		return nil, err
	}
	prev, hadPrev := loadRecord(ctx)
	if hadPrev && prev.Identity != rec.Identity {
		return nil, status.Errorf(codes.PermissionDenied, "connection %s belongs to %s, not to %s", rec.ConnID, prev.Identity, rec.Identity)
	}
	if !hadPrev || prev != rec {
		if err := s.reg.swap(prev, rec); err != nil {
			return nil, status.Error(codes.AlreadyExists, err.Error())
		}
	}
	s.bootstrap(conn, rec)

	resp, err := next.Server(ctx).Request(ctx, request)
	if err != nil {
		s.rollback(prev, hadPrev, rec)
		return nil, err
	}
	s.reg.setInterface(rec.ConnID, endpointInterface(resp))
	if !hadPrev || prev != rec {
		storeRecord(ctx, rec)
		s.cfg.Logger.Info("home address assigned", "connection", rec.ConnID, "identity", rec.Identity.String(),
			"home_address", rec.HomeAddress, "care_of", rec.CareOf)
	}
	return resp, nil
}

// recordOf works out who the client of conn is, its home address and its
// care-of address.
func (s *server) recordOf(conn *networkservice.Connection) (record, error) {
	if s.cfg.Identify == nil {
		return record{}, status.Error(codes.PermissionDenied, errNoIdentify.Error())
	}
	id, err := s.cfg.Identify(conn)
	if err != nil {
		return record{}, status.Error(codes.PermissionDenied, err.Error())
	}
	hoa, err := s.reg.policy.HomeAddress(id)
	if err != nil {
		return record{}, status.Errorf(codes.PermissionDenied, "no home address for %s: %v", id, err)
	}
	coa, err := careOf(conn)
	if err != nil {
		return record{}, status.Error(codes.FailedPrecondition, err.Error())
	}
	return record{ConnID: conn.GetId(), Identity: id, HomeAddress: hoa, CareOf: coa}, nil
}

// consumeProof removes the client's SVID proof once it has been checked:
// it is the client's, nothing after the element needs it, and it need not
// travel back. The client sends it again with every Request.
func consumeProof(conn *networkservice.Connection) {
	delete(conn.GetContext().GetExtraContext(), identity.KeySVIDProof)
}

// errNoClientAddress: the element runs before IPAM, or IPAM gave nothing.
var errNoClientAddress = errors.New("no client address in the IP context (is the element after IPAM?)")

// careOf is the connection's client address: the first SrcIpAddrs entry.
func careOf(conn *networkservice.Connection) (netip.Addr, error) {
	addrs := conn.GetContext().GetIpContext().GetSrcIpAddrs()
	if len(addrs) == 0 {
		return netip.Addr{}, errNoClientAddress
	}
	p, err := netip.ParsePrefix(addrs[0])
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
		return netip.Addr{}, fmt.Errorf("client address %q is not an IPv6 address", addrs[0])
	}
	return p.Addr(), nil
}

// bootstrap tells the client its home address and adds the route to the
// Home Agent over the connection, so that the BU and the reverse tunnel
// take it. The route goes via the endpoint's own vWire address: the Home
// Agent address is not on the vWire, so an on-link route would leave the
// client soliciting a neighbour nobody answers for.
func (s *server) bootstrap(conn *networkservice.Connection, rec record) {
	if conn.GetContext() == nil {
		conn.Context = &networkservice.ConnectionContext{}
	}
	if conn.GetContext().GetExtraContext() == nil {
		conn.GetContext().ExtraContext = map[string]string{}
	}
	bootstrap.Bootstrap{HomeAddress: rec.HomeAddress, HomeAgent: s.cfg.HomeAgent, HomePrefix: s.cfg.HomePrefix}.
		Put(conn.GetContext().GetExtraContext())
	if conn.GetContext().GetIpContext() == nil {
		conn.GetContext().IpContext = &networkservice.IPContext{}
	}
	ipc := conn.GetContext().GetIpContext()
	route := netip.PrefixFrom(s.cfg.HomeAgent, 128).String()
	for _, r := range ipc.GetSrcRoutes() {
		if r.GetPrefix() == route {
			return
		}
	}
	ipc.SrcRoutes = append(ipc.SrcRoutes, &networkservice.Route{Prefix: route, NextHop: endpointAddress(ipc)})
}

// endpointInterface is this endpoint's end of conn's vWire, as its kernel
// mechanism named it ("" for another mechanism).
func endpointInterface(conn *networkservice.Connection) string {
	if m := kernelmech.ToMechanism(conn.GetMechanism()); m != nil {
		return m.GetInterfaceName()
	}
	return ""
}

// endpointAddress is the endpoint's vWire address from IPAM, without its
// prefix length ("" when IPAM gave none).
func endpointAddress(ipc *networkservice.IPContext) string {
	for _, a := range ipc.GetDstIpAddrs() {
		if p, err := netip.ParsePrefix(a); err == nil {
			return p.Addr().String()
		}
		if addr, err := netip.ParseAddr(a); err == nil {
			return addr.String()
		}
	}
	return ""
}

// rollback undoes the registry change of a Request whose next failed: the
// connection keeps what it had before.
func (s *server) rollback(prev record, hadPrev bool, rec record) {
	if hadPrev && prev == rec {
		return
	}
	if !hadPrev {
		s.reg.remove(rec)
		return
	}
	if err := s.reg.swap(rec, prev); err != nil {
		s.reg.remove(rec)
		s.cfg.Logger.Error("could not restore the connection's earlier care-of address", "connection", rec.ConnID, "error", err)
	}
}

func (s *server) Close(ctx context.Context, conn *networkservice.Connection) (*emptypb.Empty, error) {
	if rec, ok := loadAndDeleteRecord(ctx); ok {
		s.forget(ctx, rec)
	}
	return next.Server(ctx).Close(ctx, conn)
}

// forget drops rec from the registry first, so that no BU from its
// care-of address is accepted any more, then removes the binding if it is
// still at that address: one the mobile node has moved to another
// connection is left alone.
func (s *server) forget(ctx context.Context, rec record) {
	s.reg.remove(rec)
	removed, err := s.bindings.RemoveAt(ctx, rec.HomeAddress, rec.CareOf)
	if err != nil {
		s.cfg.Logger.Error("closing connection left data plane state", "connection", rec.ConnID,
			"home_address", rec.HomeAddress, "care_of", rec.CareOf, "error", err)
	}
	s.cfg.Logger.Info("connection closed", "connection", rec.ConnID, "identity", rec.Identity.String(),
		"home_address", rec.HomeAddress, "care_of", rec.CareOf, "binding_removed", removed)
}
