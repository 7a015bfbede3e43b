package haserver

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/homeagent"
	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// Conn sends and receives whole IPv6 packets carrying Mobility Headers;
// internal/mhio implements it over the kernel.
type Conn interface {
	// Receive reads the next packet into buf, decodes it into p (p.MH
	// aliases buf) and returns the packet's length; a packet that fails a
	// receive check gives its length and an *mh.Error.
	Receive(ctx context.Context, buf []byte, p *mh.Packet) (int, error)
	// ReceivedOn is the index of the interface the packet Receive last
	// returned arrived on, 0 when unknown; asked right after Receive, on
	// the same goroutine.
	ReceivedOn() int
	Send(pkt []byte) error
	// SendParameterProblem answers an ICMPv6 Parameter Problem, rate
	// limited as RFC 4443 §2.4 requires.
	SendParameterProblem(invoking []byte, code uint8, pointer uint32) error
}

// Server is the Home Agent's packet loop.
type Server struct {
	conn    Conn
	ha      *homeagent.HomeAgent
	address netip.Addr // the Home Agent address BAs are sent from
	metrics *Metrics
	log     *slog.Logger
	limiter *rateLimiter // Binding Errors (the Conn limits ICMPv6 errors itself)
}

// New returns a Server answering from address. metrics may be nil.
func New(conn Conn, ha *homeagent.HomeAgent, address netip.Addr, metrics *Metrics, log *slog.Logger) *Server {
	if metrics == nil {
		metrics = NewMetrics(nil)
	}
	return &Server{conn: conn, ha: ha, address: address, metrics: metrics, log: log,
		limiter: newRateLimiter(errorsPerSecond, time.Now)}
}

// errorsPerSecond bounds the Binding Errors sent (RFC 6275 §9.3.1 asks for
// rate limiting).
const errorsPerSecond = 10

// Serve processes packets until ctx is done or the Conn fails.
func (s *Server) Serve(ctx context.Context) error {
	buf := make([]byte, 65536)
	out := make([]byte, 0, 512)
	var p mh.Packet
	var bu mh.BindingUpdate
	for {
		n, err := s.conn.Receive(ctx, buf, &p)
		if ctx.Err() != nil {
			return nil
		}
		var mhErr *mh.Error
		switch {
		case errors.As(err, &mhErr):
			s.rejectPacket(buf[:n], &p, mhErr)
			continue
		case err != nil:
			return err
		}
		s.metrics.received.WithLabelValues(p.Header.Type.String()).Inc()
		if p.Header.Type != mh.TypeBindingUpdate {
			s.log.Debug("ignored mobility header", "type", p.Header.Type, "from", p.Src)
			continue
		}
		out = s.handleBindingUpdate(ctx, &p, s.conn.ReceivedOn(), &bu, out[:0])
	}
}

// handleBindingUpdate answers the BU in p, which arrived on the interface
// with index ifindex (0: unknown).
func (s *Server) handleBindingUpdate(ctx context.Context, p *mh.Packet, ifindex int, bu *mh.BindingUpdate, out []byte) []byte {
	start := time.Now()
	if err := bu.Unmarshal(p.MH); err != nil {
		s.metrics.decodeErrors.WithLabelValues(causeOf(err)).Inc()
		s.log.Info("malformed binding update dropped", "from", p.Src, "error", err)
		return out
	}
	r := s.ha.HandleBindingUpdate(ctx, homeagent.Update{Source: p.Src, HomeAddress: p.HomeAddress, Interface: ifindex, BU: bu})
	if !r.Send {
		return out
	}
	out, err := mh.AppendPacket(out, &mh.Packet{Src: s.address, Dst: r.To, RoutingAddress: r.RoutingAddress}, &r.Ack)
	if err == nil {
		err = s.conn.Send(out)
	}
	if err != nil {
		s.log.Error("binding acknowledgement not sent", "to", r.To, "status", r.Ack.Status, "error", err)
		return out
	}
	s.metrics.latency.Observe(time.Since(start).Seconds())
	return out
}

// rejectPacket answers a packet that failed a receive check as the check
// prescribes: nothing, an ICMPv6 Parameter Problem, or a Binding Error.
func (s *Server) rejectPacket(pkt []byte, p *mh.Packet, e *mh.Error) {
	s.metrics.decodeErrors.WithLabelValues(causeOf(e)).Inc()
	switch {
	case e.Action == mh.ActionParameterProblem:
		s.log.Info("answering parameter problem", "from", p.Src, "error", e)
		if err := s.conn.SendParameterProblem(pkt, e.Code, uint32(e.Pointer)); err != nil {
			s.log.Warn("parameter problem not sent", "to", p.Src, "error", err)
		}
	case e.Action == mh.ActionBindingError:
		s.sendBindingError(p, e.Status)
	case errors.Is(e, mh.ErrNoMobilityHeader) && p.HomeAddress.IsValid():
		s.answerHomeAddressOption(p)
	default:
		s.log.Debug("packet dropped", "from", p.Src, "error", e)
	}
}

// answerHomeAddressOption sends Binding Error status 1 for a packet with a
// Home Address option for which there is no binding (RFC 6275 §9.3.1).
func (s *Server) answerHomeAddressOption(p *mh.Packet) {
	if b, ok := s.ha.Lookup(p.HomeAddress); ok && b.CareOf == p.Src {
		return
	}
	s.sendBindingError(p, mh.ErrorStatusUnknownBinding)
}

func (s *Server) sendBindingError(p *mh.Packet, status mh.ErrorStatus) {
	if p.Src.IsMulticast() || !p.Src.IsValid() || !s.limiter.allow() {
		return
	}
	be := &mh.BindingError{Status: status, HomeAddress: p.HomeAddress}
	out, err := mh.AppendPacket(nil, &mh.Packet{Src: s.address, Dst: p.Src}, be)
	if err == nil {
		err = s.conn.Send(out)
	}
	if err != nil {
		s.log.Error("binding error not sent", "to", p.Src, "status", status, "error", err)
		return
	}
	s.metrics.bindingErrors.WithLabelValues(status.String()).Inc()
	s.log.Info("binding error sent", "to", p.Src, "status", status, "home_address", p.HomeAddress)
}

func causeOf(err error) string {
	var e *mh.Error
	if errors.As(err, &e) {
		return e.Cause.Error()
	}
	return "other"
}
