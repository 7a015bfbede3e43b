package homeagent

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// shardCount is how many independently locked parts the cache has: BUs for
// home addresses in different shards are processed in parallel.
const shardCount = 256

// HomeAgent holds the binding cache and processes Binding Updates.
type HomeAgent struct {
	cfg    Config
	seed   maphash.Seed
	shards [shardCount]shard
	count  atomic.Int64
	closed atomic.Bool
}

// New returns a HomeAgent with an empty binding cache.
func New(cfg Config) (*HomeAgent, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	ha := &HomeAgent{cfg: cfg, seed: maphash.MakeSeed()}
	for i := range ha.shards {
		s := &ha.shards[i]
		s.entries = make(map[[16]byte]entry)
		s.fire = func() { ha.expire(s) }
	}
	return ha, nil
}

// Update is a received Binding Update with the addresses of its packet.
type Update struct {
	// Source is the IPv6 source address of the packet.
	Source netip.Addr
	// HomeAddress is the address of the Home Address option; a mobile node
	// at home sends without one, and then it is the source.
	HomeAddress netip.Addr
	// Interface is the index of the interface the packet arrived on, 0
	// when unknown. The core does not use it; it passes it on to the
	// Authorizer, which may tie a care-of address to its link.
	Interface int
	BU        *mh.BindingUpdate
}

// Reply is what to send back for an Update.
type Reply struct {
	// Send is false when the BU is discarded without an answer, or
	// accepted without the A flag.
	Send bool
	Ack  mh.BindingAck
	// To is the destination of the BA: the care-of address, or the source
	// of the BU when it was refused before the care-of address was known.
	To netip.Addr
	// RoutingAddress is the home address for the type 2 routing header;
	// the zero Addr when the BA goes to the home address itself.
	RoutingAddress netip.Addr
	// Err says why the BU was refused or discarded; nil when accepted.
	Err error
}

// ErrNotHomeRegistration is returned for a BU without the H flag: this
// node is no correspondent node, and a correspondent registration without
// a verifiable authorization is silently discarded (RFC 6275 §9.5.1).
var ErrNotHomeRegistration = errors.New("correspondent registration (H flag clear) is not supported")

// HandleBindingUpdate processes u as RFC 6275 §10.3.1 and §10.3.2 say and
// returns the answer.
func (ha *HomeAgent) HandleBindingUpdate(ctx context.Context, u Update) Reply {
	start := ha.cfg.Clock.Now()
	if !u.HomeAddress.IsValid() {
		u.HomeAddress = u.Source
	}
	r := ha.process(ctx, u)
	ha.cfg.Observer.Processed(r.Ack.Status, !r.Send && r.Err != nil, ha.cfg.Clock.Now().Sub(start))
	return r
}

func (ha *HomeAgent) process(ctx context.Context, u Update) Reply {
	if u.BU.Flags&mh.FlagH == 0 {
		return Reply{Err: ErrNotHomeRegistration}
	}
	coa := careOfAddress(u)
	if ha.closed.Load() {
		return ha.refusal(u, coa, nil, Refuse(mh.StatusInsufficientResources, "home agent is shutting down"))
	}
	s := ha.shardOf(u.HomeAddress)
	s.mu.Lock()
	defer s.mu.Unlock()
	var existing *entry
	if e, ok := s.entries[u.HomeAddress.As16()]; ok {
		existing = &e
	}
	if err := ha.check(ctx, u, coa, existing); err != nil {
		return ha.refusal(u, coa, existing, err)
	}
	if u.BU.Lifetime == 0 || coa == u.HomeAddress {
		return ha.deregister(ctx, s, u, coa)
	}
	return ha.register(ctx, s, u, coa, existing)
}

// careOfAddress is the Alternate Care-of Address option's address when the
// BU has one, the packet's source otherwise (RFC 6275 §6.2.5).
func careOfAddress(u Update) netip.Addr {
	if o, ok := u.BU.Options.Find(mh.OptAlternateCareOf); ok {
		return o.Addr
	}
	return u.Source
}

// check applies the home registration checks in the RFC's order.
func (ha *HomeAgent) check(ctx context.Context, u Update, coa netip.Addr, existing *entry) error {
	if !ha.onHomePrefix(u.HomeAddress) {
		return Refuse(mh.StatusNotHomeSubnet, "home address %s is on no home prefix", u.HomeAddress)
	}
	if err := ha.checkCareOf(u.HomeAddress, coa); err != nil {
		return err
	}
	if ha.cfg.Authorizer != nil {
		req := Request{HomeAddress: u.HomeAddress, CareOf: coa, Source: u.Source, Interface: u.Interface, Update: u.BU}
		if err := ha.cfg.Authorizer.Authorize(ctx, req); err != nil {
			return err
		}
	}
	if existing != nil && existing.flags&mh.FlagR != u.BU.Flags&mh.FlagR {
		return Refuse(mh.StatusRegistrationTypeChange, "mobile router flag changed for %s", u.HomeAddress)
	}
	if existing != nil && !mh.SequenceNewer(u.BU.Sequence, existing.sequence) {
		return Refuse(mh.StatusSequenceOutOfWindow, "sequence %d is not newer than %d", u.BU.Sequence, existing.sequence)
	}
	if u.BU.Options.Has(mh.OptNonceIndices) || u.BU.Options.Has(mh.OptAuthorizationData) {
		return Refuse(mh.StatusAdministrativelyProhibited, "return routability options in a home registration")
	}
	if existing == nil && (u.BU.Lifetime == 0 || coa == u.HomeAddress) {
		return Refuse(mh.StatusNotHomeAgentForThisMobileNode, "deregistration of %s, which has no binding", u.HomeAddress)
	}
	return nil
}

func (ha *HomeAgent) checkCareOf(hoa, coa netip.Addr) error {
	if coa == hoa {
		return nil // deregistration from home
	}
	if !coa.Is6() || coa.Is4In6() || !coa.IsGlobalUnicast() || ha.onHomePrefix(coa) {
		return Refuse(mh.StatusInvalidCareOfAddress, "care-of address %s is not a global unicast address off the home prefixes", coa)
	}
	return nil
}

func (ha *HomeAgent) onHomePrefix(a netip.Addr) bool {
	return slices.ContainsFunc(ha.cfg.HomePrefixes, func(p netip.Prefix) bool { return p.Contains(a) })
}

func (ha *HomeAgent) register(ctx context.Context, s *shard, u Update, coa netip.Addr, existing *entry) Reply {
	c16 := coa.As16()
	if existing == nil || existing.careOf != c16 {
		if err := ha.bind(ctx, u.HomeAddress, coa); err != nil {
			return ha.refusal(u, coa, existing, Refuse(mh.StatusInsufficientResources, "data plane: %v", err))
		}
	}
	now := ha.cfg.Clock.Now().UnixNano()
	granted := ha.grant(u.BU.Lifetime)
	e := entry{registered: now}
	if existing != nil {
		e.registered = existing.registered
	} else {
		ha.cfg.Observer.BindingsChanged(int(ha.count.Add(1)))
	}
	e.careOf, e.source, e.sequence, e.flags = c16, u.Source.As16(), u.BU.Sequence, u.BU.Flags
	e.lifetime, e.refreshed, e.expires = granted, now, now+int64(granted.Duration())
	hoa := u.HomeAddress.As16()
	s.entries[hoa] = e
	s.schedule(ha.cfg.Clock, hoa, e.expires)
	return ha.accept(u, coa, granted)
}

// grant is the lifetime given: the one asked for, capped by configuration.
func (ha *HomeAgent) grant(asked mh.Lifetime) mh.Lifetime {
	return min(asked, mh.LifetimeOf(ha.cfg.MaxLifetime))
}

func (ha *HomeAgent) deregister(ctx context.Context, s *shard, u Update, coa netip.Addr) Reply {
	if err := ha.remove(ctx, s, u.HomeAddress.As16()); err != nil {
		ha.cfg.Logger.Error("deregistration left data plane state", "home_address", u.HomeAddress, "error", err)
	}
	return ha.accept(u, coa, 0)
}

// remove deletes the binding of hoa from the cache and the data plane; s
// must be locked. Its pending expiry is skipped when it comes due.
func (ha *HomeAgent) remove(ctx context.Context, s *shard, hoa [16]byte) error {
	delete(s.entries, hoa)
	ha.cfg.Observer.BindingsChanged(int(ha.count.Add(-1)))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ha.cfg.Timeout)
	defer cancel()
	return ha.cfg.DataPlane.Unbind(ctx, netip.AddrFrom16(hoa))
}

func (ha *HomeAgent) bind(ctx context.Context, hoa, coa netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ha.cfg.Timeout)
	defer cancel()
	return ha.cfg.DataPlane.Bind(ctx, hoa, coa)
}

// expire removes the bindings of s that are due, skipping expiry times a
// refresh has moved since, and re-arms the shard's timer.
func (ha *HomeAgent) expire(s *shard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer, s.timerAt = nil, 0
	for _, item := range s.popDue(ha.cfg.Clock.Now().UnixNano()) {
		e, ok := s.entries[item.hoa]
		if !ok || e.expires != item.at {
			continue
		}
		ha.cfg.Logger.Info("binding expired", "home_address", netip.AddrFrom16(item.hoa), "care_of", netip.AddrFrom16(e.careOf))
		if err := ha.remove(context.Background(), s, item.hoa); err != nil {
			ha.cfg.Logger.Error("expiry left data plane state", "home_address", netip.AddrFrom16(item.hoa), "error", err)
		}
	}
	if len(s.expiry) > 0 && !ha.closed.Load() {
		s.arm(ha.cfg.Clock, s.expiry[0].at)
	}
}

func (ha *HomeAgent) accept(u Update, coa netip.Addr, granted mh.Lifetime) Reply {
	ack := mh.BindingAck{Status: mh.StatusAccepted, Sequence: u.BU.Sequence, Lifetime: granted}
	if ha.cfg.RefreshFraction > 0 && granted > 0 {
		interval := max(mh.Lifetime(float64(granted)*ha.cfg.RefreshFraction), 1)
		ack.Options = mh.Options{mh.RefreshAdvice(interval)}
	}
	if ha.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) { // the arguments would allocate
		ha.cfg.Logger.Debug("binding update accepted", "home_address", u.HomeAddress, "care_of", coa,
			"sequence", u.BU.Sequence, "lifetime", granted.Duration())
	}
	r := reply(u, coa, ack, nil)
	r.Send = u.BU.Flags&mh.FlagA != 0
	return r
}

// refusal answers a refused BU, with the binding's last accepted sequence
// for status 135 (RFC 6275 §10.3.1).
func (ha *HomeAgent) refusal(u Update, coa netip.Addr, e *entry, err error) Reply {
	ack := mh.BindingAck{Status: statusOf(err), Sequence: u.BU.Sequence}
	if ack.Status == mh.StatusSequenceOutOfWindow && e != nil {
		ack.Sequence = e.sequence
	}
	ha.cfg.Logger.Info("binding update refused", "home_address", u.HomeAddress, "care_of", coa,
		"sequence", u.BU.Sequence, "status", ack.Status, "reason", err)
	return reply(u, coa, ack, err)
}

// reply addresses ack to the care-of address, or to the BU's source when
// the care-of address is unusable, with a type 2 routing header for the
// home address unless that is where the BA goes.
func reply(u Update, to netip.Addr, ack mh.BindingAck, err error) Reply {
	if !to.IsGlobalUnicast() {
		to = u.Source
	}
	r := Reply{Send: true, Ack: ack, To: to, Err: err}
	if to != u.HomeAddress {
		r.RoutingAddress = u.HomeAddress
	}
	return r
}

func (ha *HomeAgent) shardOf(hoa netip.Addr) *shard {
	return &ha.shards[maphash.Comparable(ha.seed, hoa.As16())%shardCount]
}

// Lookup returns the binding of hoa.
func (ha *HomeAgent) Lookup(hoa netip.Addr) (Binding, bool) {
	s := ha.shardOf(hoa)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[hoa.As16()]; ok {
		return e.binding(hoa.As16()), true
	}
	return Binding{}, false
}

// Len returns the number of bindings.
func (ha *HomeAgent) Len() int { return int(ha.count.Load()) }

// Bindings returns a snapshot of the cache sorted by home address.
func (ha *HomeAgent) Bindings() []Binding {
	out := make([]Binding, 0, ha.Len())
	for i := range ha.shards {
		s := &ha.shards[i]
		s.mu.Lock()
		for hoa, e := range s.entries {
			out = append(out, e.binding(hoa))
		}
		s.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Binding) int { return a.HomeAddress.Compare(b.HomeAddress) })
	return out
}

// Close refuses further BUs and removes every binding from the cache and
// the data plane.
func (ha *HomeAgent) Close(ctx context.Context) error {
	ha.closed.Store(true)
	var errs []error
	for i := range ha.shards {
		s := &ha.shards[i]
		s.mu.Lock()
		s.stop()
		for hoa := range s.entries {
			if err := ha.remove(ctx, s, hoa); err != nil {
				errs = append(errs, fmt.Errorf("unbind %s: %w", netip.AddrFrom16(hoa), err))
			}
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}
