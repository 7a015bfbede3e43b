package mhio

import (
	"fmt"
	"log/slog"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// The table af_packet mode installs, as `nft list table ip6 mip6mesh-<instance>` shows it:
//
//	table ip6 mip6mesh-<instance> {
//		chain prerouting {
//			type filter hook prerouting priority raw; policy accept;
//			exthdr dst exists meta l4proto mobility-header fib daddr type local drop comment "…"
//			rt type 2 meta l4proto mobility-header fib daddr type local drop comment "…"
//		}
//	}
//
// Priority raw (-300) runs before the kernel looks at extension headers, so
// the kernel never sees these packets and sends no Parameter Problem, while
// AF_PACKET sockets, which see packets before netfilter, still get them.
// Packets to other nodes (a Home Agent forwards traffic) are left alone.
const chainName = "prerouting"

func installTable(netnsFD int, name string, log *slog.Logger) error {
	nc, err := nftables.New(nftables.WithNetNSFd(netnsFD))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	tables, err := nc.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == name {
			log.Warn("removing a stale nftables table, left by an earlier run that did not close", "table", name)
			nc.DelTable(t)
		}
	}
	table := nc.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv6, Name: name})
	chain := nc.AddChain(&nftables.Chain{
		Name:     chainName,
		Table:    table,
		Type:     nftables.ChainTypeFilter,
		Hooknum:  nftables.ChainHookPrerouting,
		Priority: nftables.ChainPriorityRaw,
	})
	nc.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: dropLocalMH(destOptsPresent()),
		UserData: comment("mip6: home address option, received by af_packet")})
	nc.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: dropLocalMH(routingType2()),
		UserData: comment("mip6: type 2 routing header, received by af_packet")})
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("install nftables table ip6 %s: %w", name, err)
	}
	return nil
}

func removeTable(netnsFD int, name string) error {
	nc, err := nftables.New(nftables.WithNetNSFd(netnsFD))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	nc.DelTable(&nftables.Table{Family: nftables.TableFamilyIPv6, Name: name})
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("remove nftables table ip6 %s: %w", name, err)
	}
	return nil
}

// dropLocalMH is `<match> meta l4proto 135 fib daddr type local drop`.
func dropLocalMH(match []expr.Any) []expr.Any {
	return append(match,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{protoMH}},
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
		&expr.Verdict{Kind: expr.VerdictDrop},
	)
}

// destOptsPresent is `exthdr dst exists`.
func destOptsPresent() []expr.Any {
	return []expr.Any{
		&expr.Exthdr{DestRegister: 1, Type: protoDestOpts, Offset: 0, Len: 1,
			Flags: unix.NFT_EXTHDR_F_PRESENT, Op: expr.ExthdrOpIpv6},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{1}},
	}
}

// routingType2 is `rt type 2`.
func routingType2() []expr.Any {
	return []expr.Any{
		&expr.Exthdr{DestRegister: 1, Type: protoRouting, Offset: 2, Len: 1, Op: expr.ExthdrOpIpv6},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{2}},
	}
}

func comment(s string) []byte { return userdata.AppendString(nil, userdata.TypeComment, s) }
