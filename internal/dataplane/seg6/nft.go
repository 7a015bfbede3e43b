package seg6

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
	"github.com/mip6mesh/mip6mesh/internal/dataplane/kernel"
)

// Offsets in an IPv6-in-IPv6 packet without extension headers.
const (
	offNextHeader = 6
	offSrc        = 8
	offDst        = 24
	offInnerSrc   = 40 + offSrc
	offInnerDst   = 40 + offDst
	protoIPv6     = 41

	tablePrefix   = "mip6mesh-dp-"
	chainName     = "decap"
	setBindings   = "bindings"  // Home Agent: care-of address . home address
	setEndpoints  = "endpoints" // Mobile Node: care-of addresses
	regFirst      = 1           // 16-byte registers; 1 and 2 are contiguous
	regSecond     = 2
	markByteCount = 4
)

// nextSetID numbers the sets we create; IDs only need to be unique within
// one nftables transaction.
var nextSetID atomic.Uint32

// tableName is the instance's nftables table (family ip6).
func tableName(instance string) string { return tablePrefix + instance }

// deleteTable removes the instance's nftables table if it exists.
func (s *session) deleteTable(instance string) error {
	tables, err := s.nft.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return fmt.Errorf("list nft tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == tableName(instance) {
			s.nft.DelTable(t)
			if err := s.nft.Flush(); err != nil {
				return fmt.Errorf("delete nft table %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// tableElements returns the keys in set of the instance's table, or
// nothing if the table or set does not exist.
func (s *session) tableElements(instance, setName string) ([][]byte, error) {
	tables, err := s.nft.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return nil, fmt.Errorf("list nft tables: %w", err)
	}
	for _, t := range tables {
		if t.Name != tableName(instance) {
			continue
		}
		set, err := s.nft.GetSetByName(t, setName)
		if kernel.IsGone(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("find nft set %s: %w", setName, err)
		}
		elems, err := s.nft.GetSetElements(set)
		if err != nil {
			return nil, fmt.Errorf("read nft set %s: %w", setName, err)
		}
		keys := make([][]byte, 0, len(elems))
		for _, e := range elems {
			keys = append(keys, e.Key)
		}
		return keys, nil
	}
	return nil, nil
}

// installDecapTable creates the instance's table with one set and the
// prerouting chain "decap": packets matching accept are marked with
// k.Mark, other protocol-41 packets matching drop are counted and dropped.
func (s *session) installDecapTable(cfg dataplane.Config, set *nftables.Set, accept, drop []expr.Any) (*nftables.Set, error) {
	table := s.nft.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv6, Name: tableName(cfg.Instance)})
	set.Table = table
	// A set ID of our own: nftables v0.3.0 allocates IDs from an
	// unsynchronised package variable, a data race between instances.
	set.ID = nextSetID.Add(1)
	if err := s.nft.AddSet(set, nil); err != nil {
		return nil, fmt.Errorf("nft set %s: %w", set.Name, err)
	}
	chain := s.nft.AddChain(&nftables.Chain{
		Name:     chainName,
		Table:    table,
		Type:     nftables.ChainTypeFilter,
		Hooknum:  nftables.ChainHookPrerouting,
		Priority: nftables.ChainPriorityMangle,
	})
	markAndAccept := slices.Concat(accept, setMark(cfg.Kernel.Mark), counted(expr.VerdictAccept))
	s.nft.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: markAndAccept})
	s.nft.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: slices.Concat(drop, counted(expr.VerdictDrop))})
	if err := s.nft.Flush(); err != nil {
		return nil, fmt.Errorf("create nft table %s: %w", table.Name, kernel.AsFeatureError(err, "nf_tables"))
	}
	return set, nil
}

// installHomeAgentTable: accept "ip6 daddr <HA> ip6 nexthdr 41
// ip6 saddr . <inner saddr> @bindings"; drop other protocol 41 to <HA>.
// The set has flag timeout: elements of current bindings have none, those
// of previous care-of addresses expire (PreviousCareOfGrace).
func (s *session) installHomeAgentTable(cfg dataplane.Config) (*nftables.Set, error) {
	set := &nftables.Set{
		Name:          setBindings,
		KeyType:       nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeIP6Addr),
		Concatenation: true,
		HasTimeout:    true,
	}
	toEndpoint := slices.Concat(loadCmp(offDst, cfg.HomeAgent), tunnelled())
	accept := slices.Concat(toEndpoint, []expr.Any{
		load(regFirst, offSrc, 16),
		load(regSecond, offInnerSrc, 16),
		&expr.Lookup{SourceRegister: regFirst, SetName: set.Name},
	})
	return s.installDecapTable(cfg, set, accept, toEndpoint)
}

// installMobileNodeTable: accept "ip6 saddr <HA> ip6 nexthdr 41
// ip6 daddr @endpoints <inner daddr> == <HoA>"; drop other protocol 41 to
// a care-of address.
func (s *session) installMobileNodeTable(cfg dataplane.Config) (*nftables.Set, error) {
	set := &nftables.Set{Name: setEndpoints, KeyType: nftables.TypeIP6Addr}
	toEndpoint := slices.Concat(tunnelled(), []expr.Any{
		load(regFirst, offDst, 16),
		&expr.Lookup{SourceRegister: regFirst, SetName: set.Name},
	})
	accept := slices.Concat(loadCmp(offSrc, cfg.HomeAgent), toEndpoint, loadCmp(offInnerDst, cfg.HomeAddress))
	return s.installDecapTable(cfg, set, accept, toEndpoint)
}

func (s *session) addElements(set *nftables.Set, keys ...[]byte) error {
	if err := s.nft.SetAddElements(set, elements(keys)); err != nil {
		return err
	}
	if err := s.nft.Flush(); err != nil {
		return fmt.Errorf("add to nft set %s: %w", set.Name, err)
	}
	return nil
}

func (s *session) deleteElements(set *nftables.Set, keys ...[]byte) error {
	if err := s.nft.SetDeleteElements(set, elements(keys)); err != nil {
		return err
	}
	if err := s.nft.Flush(); err != nil && !kernel.IsGone(err) {
		return fmt.Errorf("delete from nft set %s: %w", set.Name, err)
	}
	return nil
}

// replaceElement swaps the element with key for one that expires after
// timeout (0: never; the kernel counts milliseconds) in one transaction,
// so that lookups never miss it. If that element has gone (expired), key
// is added alone.
func (s *session) replaceElement(set *nftables.Set, key []byte, timeout time.Duration) error {
	if timeout > 0 {
		timeout = max(timeout, time.Millisecond) // 0 ms would mean "never"
	}
	elem := []nftables.SetElement{{Key: key, Timeout: timeout}}
	if err := s.nft.SetDeleteElements(set, elements([][]byte{key})); err != nil {
		return err
	}
	if err := s.nft.SetAddElements(set, elem); err != nil {
		return err
	}
	err := s.nft.Flush()
	if kernel.IsGone(err) {
		if err := s.nft.SetAddElements(set, elem); err != nil {
			return err
		}
		err = s.nft.Flush()
	}
	if err != nil {
		return fmt.Errorf("replace in nft set %s: %w", set.Name, err)
	}
	return nil
}

func elements(keys [][]byte) []nftables.SetElement {
	out := make([]nftables.SetElement, len(keys))
	for i, k := range keys {
		out[i] = nftables.SetElement{Key: k}
	}
	return out
}

// bindingKey is the @bindings key: care-of address . home address.
func bindingKey(coa, hoa netip.Addr) []byte {
	c, h := coa.As16(), hoa.As16()
	return append(c[:], h[:]...)
}

func addrKey(a netip.Addr) []byte {
	b := a.As16()
	return b[:]
}

func load(reg, offset, length uint32) *expr.Payload {
	return &expr.Payload{
		DestRegister: reg,
		Base:         expr.PayloadBaseNetworkHeader,
		Offset:       offset,
		Len:          length,
	}
}

func loadCmp(offset uint32, a netip.Addr) []expr.Any {
	return []expr.Any{
		load(regFirst, offset, 16),
		&expr.Cmp{Op: expr.CmpOpEq, Register: regFirst, Data: addrKey(a)},
	}
}

// tunnelled matches "ip6 nexthdr 41": the outer header is followed
// directly by the inner one, so the inner offsets above hold.
func tunnelled() []expr.Any {
	return []expr.Any{
		load(regFirst, offNextHeader, 1),
		&expr.Cmp{Op: expr.CmpOpEq, Register: regFirst, Data: []byte{protoIPv6}},
	}
}

// setMark is "meta mark set meta mark | mark".
func setMark(mark uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyMARK, Register: regFirst},
		&expr.Bitwise{
			SourceRegister: regFirst,
			DestRegister:   regFirst,
			Len:            markByteCount,
			Mask:           binary.NativeEndian.AppendUint32(nil, ^mark),
			Xor:            binary.NativeEndian.AppendUint32(nil, mark),
		},
		&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: regFirst},
	}
}

func counted(verdict expr.VerdictKind) []expr.Any {
	return []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: verdict}}
}
