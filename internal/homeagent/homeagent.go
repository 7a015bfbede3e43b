package homeagent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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

type shard struct {
	mu sync.Mutex
	m  map[netip.Addr]*entry
}

// New returns a HomeAgent with an empty binding cache.
func New(cfg Config) (*HomeAgent, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	ha := &HomeAgent{cfg: cfg, seed: maphash.MakeSeed()}
	for i := range ha.shards {
		ha.shards[i].m = make(map[netip.Addr]*entry)
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
	BU          *mh.BindingUpdate
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
	existing := s.m[u.HomeAddress]
	if err := ha.check(ctx, u, coa, existing); err != nil {
		return ha.refusal(u, coa, existing, err)
	}
	if u.BU.Lifetime == 0 || coa == u.HomeAddress {
		return ha.deregister(ctx, s, u, coa, existing)
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
		req := Request{HomeAddress: u.HomeAddress, CareOf: coa, Source: u.Source, Update: u.BU}
		if err := ha.cfg.Authorizer.Authorize(ctx, req); err != nil {
			return err
		}
	}
	if existing != nil && existing.Flags&mh.FlagR != u.BU.Flags&mh.FlagR {
		return Refuse(mh.StatusRegistrationTypeChange, "mobile router flag changed for %s", u.HomeAddress)
	}
	if existing != nil && !mh.SequenceNewer(u.BU.Sequence, existing.Sequence) {
		return Refuse(mh.StatusSequenceOutOfWindow, "sequence %d is not newer than %d", u.BU.Sequence, existing.Sequence)
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

func (ha *HomeAgent) register(ctx context.Context, s *shard, u Update, coa netip.Addr, e *entry) Reply {
	if e == nil || e.CareOf != coa {
		if err := ha.bind(ctx, u.HomeAddress, coa); err != nil {
			return ha.refusal(u, coa, e, Refuse(mh.StatusInsufficientResources, "data plane: %v", err))
		}
	}
	now := ha.cfg.Clock.Now()
	granted := ha.grant(u.BU.Lifetime)
	if e == nil {
		e = &entry{Binding: Binding{HomeAddress: u.HomeAddress, Registered: now}}
		s.m[u.HomeAddress] = e
		ha.cfg.Observer.BindingsChanged(int(ha.count.Add(1)))
	}
	e.CareOf, e.Source, e.Sequence, e.Flags = coa, u.Source, u.BU.Sequence, u.BU.Flags
	e.Lifetime, e.Refreshed, e.Expires = granted.Duration(), now, now.Add(granted.Duration())
	ha.armExpiry(e)
	return ha.accept(u, coa, granted)
}

// grant is the lifetime given: the one asked for, capped by configuration.
func (ha *HomeAgent) grant(asked mh.Lifetime) mh.Lifetime {
	return min(asked, mh.LifetimeOf(ha.cfg.MaxLifetime))
}

func (ha *HomeAgent) deregister(ctx context.Context, s *shard, u Update, coa netip.Addr, e *entry) Reply {
	if err := ha.remove(ctx, s, e); err != nil {
		ha.cfg.Logger.Error("deregistration left data plane state", "home_address", u.HomeAddress, "error", err)
	}
	return ha.accept(u, coa, 0)
}

// remove deletes e from the cache and the data plane; s must be locked.
func (ha *HomeAgent) remove(ctx context.Context, s *shard, e *entry) error {
	e.timer.Stop()
	delete(s.m, e.HomeAddress)
	ha.cfg.Observer.BindingsChanged(int(ha.count.Add(-1)))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ha.cfg.Timeout)
	defer cancel()
	return ha.cfg.DataPlane.Unbind(ctx, e.HomeAddress)
}

func (ha *HomeAgent) bind(ctx context.Context, hoa, coa netip.Addr) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ha.cfg.Timeout)
	defer cancel()
	return ha.cfg.DataPlane.Bind(ctx, hoa, coa)
}

// armExpiry (re)starts e's expiry timer; e's shard must be locked.
func (ha *HomeAgent) armExpiry(e *entry) {
	if e.timer != nil {
		e.timer.Stop()
	}
	hoa, expires := e.HomeAddress, e.Expires
	e.timer = ha.cfg.Clock.AfterFunc(e.Lifetime, func() { ha.expire(hoa, expires) })
}

// expire removes the binding of hoa if it still expires at expires: a
// refresh since the timer was set moves the expiry and keeps the binding.
func (ha *HomeAgent) expire(hoa netip.Addr, expires time.Time) {
	s := ha.shardOf(hoa)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[hoa]
	if e == nil || !e.Expires.Equal(expires) {
		return
	}
	ha.cfg.Logger.Info("binding expired", "home_address", hoa, "care_of", e.CareOf)
	if err := ha.remove(context.Background(), s, e); err != nil {
		ha.cfg.Logger.Error("expiry left data plane state", "home_address", hoa, "error", err)
	}
}

func (ha *HomeAgent) accept(u Update, coa netip.Addr, granted mh.Lifetime) Reply {
	ack := mh.BindingAck{Status: mh.StatusAccepted, Sequence: u.BU.Sequence, Lifetime: granted}
	if ha.cfg.RefreshFraction > 0 && granted > 0 {
		interval := max(mh.Lifetime(float64(granted)*ha.cfg.RefreshFraction), 1)
		ack.Options = mh.Options{mh.RefreshAdvice(interval)}
	}
	ha.cfg.Logger.Debug("binding update accepted", "home_address", u.HomeAddress, "care_of", coa,
		"sequence", u.BU.Sequence, "lifetime", granted.Duration())
	r := reply(u, coa, ack, nil)
	r.Send = u.BU.Flags&mh.FlagA != 0
	return r
}

// refusal answers a refused BU, with the binding's last accepted sequence
// for status 135 (RFC 6275 §10.3.1).
func (ha *HomeAgent) refusal(u Update, coa netip.Addr, e *entry, err error) Reply {
	ack := mh.BindingAck{Status: statusOf(err), Sequence: u.BU.Sequence}
	if ack.Status == mh.StatusSequenceOutOfWindow && e != nil {
		ack.Sequence = e.Sequence
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
	a := hoa.As16()
	return &ha.shards[maphash.Bytes(ha.seed, a[:])%shardCount]
}

// Lookup returns the binding of hoa.
func (ha *HomeAgent) Lookup(hoa netip.Addr) (Binding, bool) {
	s := ha.shardOf(hoa)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[hoa]; ok {
		return e.Binding, true
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
		for _, e := range s.m {
			out = append(out, e.Binding)
		}
		s.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Binding) int { return cmp.Compare(a.HomeAddress.String(), b.HomeAddress.String()) })
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
		for _, e := range s.m {
			if err := ha.remove(ctx, s, e); err != nil {
				errs = append(errs, fmt.Errorf("unbind %s: %w", e.HomeAddress, err))
			}
		}
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}
