package bpf

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// The two programs are written with cilium/ebpf's assembler, so that
// building the driver needs no C toolchain and the Home Agent address can
// be an immediate operand instead of a global variable. Each block below
// says what it does in C-like pseudocode. Register use, as the BPF calling
// convention dictates: R1-R5 carry helper arguments and are clobbered by
// every call, R0 holds the result, R6-R9 survive calls, R10 is the
// read-only frame pointer (the stack grows down from it, 512 bytes).

// Names of the maps, as instructions reference them and as the kernel
// lists them (bpftool map); at most 15 characters.
const (
	bindingsMapName = "mip6_bindings"
	statsMapName    = "mip6_stats"
	encapProgName   = "mip6_encap"
	checkProgName   = "mip6_decap_chk"
)

// Return codes and constants of LWT programs (include/uapi/linux/bpf.h).
const (
	bpfOK          = 0   // BPF_OK: carry on as if there were no program
	bpfDrop        = 2   // BPF_DROP: free the packet
	bpfLWTReroute  = 128 // BPF_LWT_REROUTE: route the packet again
	bpfLWTEncapIP  = 2   // BPF_LWT_ENCAP_IP, mode of bpf_lwt_push_encap
	skbLenOffset   = 0   // offsetof(struct __sk_buff, len)
	skbMarkOffset  = 8   // offsetof(struct __sk_buff, mark)
	addrLen        = 16  // an IPv6 address
	ipv6HeaderLen  = 40  // the fixed IPv6 header
	offNextHeader  = 6   // in the IPv6 header
	offSrc         = 8   // source address
	offDst         = 24  // destination address
	protoIPv6      = 41  // next header of IPv6-in-IPv6 (RFC 2473)
	outerHopLimit  = 64  // hop limit of the outer header
	ipv6VersionTop = 6 << 4
)

// Stack slots, as offsets from R10.
const (
	slotAddr    = -16 // 16 bytes: a map key (home address)
	slotHeader  = -56 // 40 bytes: an IPv6 header (built or read)
	slotCounter = -64 // 4 bytes: a stats map key
)

// counter indexes the per-CPU stats map; see Stats for their meaning.
type counter uint32

const (
	cntEncapsulated counter = iota
	cntNoBinding
	cntEncapFailed
	cntDecapsulated
	cntRefused
	cntMalformed
	numCounters
)

// bindingsSpec is the hash map home address -> care-of address, both as
// 16 network-order bytes. Without preallocation its memory follows the
// number of bindings rather than the capacity.
func bindingsSpec(capacity uint32) *ebpf.MapSpec {
	return &ebpf.MapSpec{
		Name:       bindingsMapName,
		Type:       ebpf.Hash,
		KeySize:    addrLen,
		ValueSize:  addrLen,
		MaxEntries: capacity,
		Flags:      bpfFNoPrealloc,
	}
}

// bpfFNoPrealloc is BPF_F_NO_PREALLOC.
const bpfFNoPrealloc = 1

func statsSpec() *ebpf.MapSpec {
	return &ebpf.MapSpec{
		Name:       statsMapName,
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: uint32(numCounters),
	}
}

// encapSpec is the program of the home-prefix route (BPF_PROG_TYPE_LWT_XMIT,
// run when a packet to the home prefix is about to be transmitted, after
// forwarding). It puts an RFC 2473 outer header in front of a packet to a
// bound home address and has the kernel route the result; a packet to a
// home address without binding is dropped.
func encapSpec(homeAgent netip.Addr) *ebpf.ProgramSpec {
	return &ebpf.ProgramSpec{
		Name: encapProgName,
		Type: ebpf.LWTXmit,
		Instructions: slices.Concat(
			// r6 = skb
			asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)},
			// if (bpf_skb_load_bytes(skb, 24, &hoa, 16)) goto malformed
			loadBytes(offDst, slotAddr, addrLen, "malformed"),
			// r7 = bindings[hoa]; if (!r7) goto no_binding
			lookupBinding(slotAddr, "no_binding"),
			buildOuterHeader(homeAgent),
			// if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &hdr, 40)) goto failed
			asm.Instructions{
				asm.Mov.Reg(asm.R1, asm.R6),
				asm.Mov.Imm(asm.R2, bpfLWTEncapIP),
				asm.Mov.Reg(asm.R3, asm.R10),
				asm.Add.Imm(asm.R3, slotHeader),
				asm.Mov.Imm(asm.R4, ipv6HeaderLen),
				asm.FnLwtPushEncap.Call(),
				asm.JNE.Imm(asm.R0, 0, "failed"),
			},
			// The kernel routes the outer packet by its destination.
			countAndReturn(cntEncapsulated, bpfLWTReroute, "encapsulated"),
			countAndReturn(cntNoBinding, bpfDrop, "no_binding"),
			countAndReturn(cntEncapFailed, bpfDrop, "failed"),
			countAndReturn(cntMalformed, bpfDrop, "malformed"),
		),
	}
}

// buildOuterHeader writes the outer IPv6 header to the stack at
// slotHeader: version 6, traffic class and flow label 0, payload length
// the packet's length, next header 41, hop limit 64, source homeAgent,
// destination the care-of address r7 points at.
func buildOuterHeader(homeAgent netip.Addr) asm.Instructions {
	first := [8]byte{ipv6VersionTop, 0, 0, 0, 0, 0, protoIPv6, outerHopLimit}
	src := homeAgent.As16()
	return asm.Instructions{
		// hdr[0:8] = 60 00 00 00 | 00 00 | 29 | 40
		asm.LoadImm(asm.R2, native64(first[:]), asm.DWord),
		asm.StoreMem(asm.R10, slotHeader, asm.R2, asm.DWord),
		// hdr[4:6] = htons(skb->len): the whole packet becomes the payload
		asm.LoadMem(asm.R2, asm.R6, skbLenOffset, asm.Word),
		asm.HostTo(asm.BE, asm.R2, asm.Half),
		asm.StoreMem(asm.R10, slotHeader+4, asm.R2, asm.Half),
		// hdr[8:24] = the Home Agent address
		asm.LoadImm(asm.R2, native64(src[:8]), asm.DWord),
		asm.StoreMem(asm.R10, slotHeader+offSrc, asm.R2, asm.DWord),
		asm.LoadImm(asm.R2, native64(src[8:]), asm.DWord),
		asm.StoreMem(asm.R10, slotHeader+offSrc+8, asm.R2, asm.DWord),
		// hdr[24:40] = *r7, the care-of address
		asm.LoadMem(asm.R2, asm.R7, 0, asm.DWord),
		asm.StoreMem(asm.R10, slotHeader+offDst, asm.R2, asm.DWord),
		asm.LoadMem(asm.R2, asm.R7, 8, asm.DWord),
		asm.StoreMem(asm.R10, slotHeader+offDst+8, asm.R2, asm.DWord),
	}
}

// checkSpec is the program of the route that receives tunnelled packets
// to the Home Agent address (BPF_PROG_TYPE_LWT_IN). It accepts a packet
// only if its outer source is the care-of address bound to its inner
// source: it then sets mark and has the kernel route the packet again,
// which now leads to the decapsulation route. Other tunnelled packets are
// dropped; packets that are not IPv6-in-IPv6 are delivered as usual.
func checkSpec(mark uint32) *ebpf.ProgramSpec {
	return &ebpf.ProgramSpec{
		Name: checkProgName,
		Type: ebpf.LWTIn,
		Instructions: slices.Concat(
			// r6 = skb
			asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)},
			// if (bpf_skb_load_bytes(skb, 0, &outer, 40)) goto malformed
			loadBytes(0, slotHeader, ipv6HeaderLen, "malformed"),
			// if (outer.nexthdr != 41) return BPF_OK
			asm.Instructions{
				asm.LoadMem(asm.R1, asm.R10, slotHeader+offNextHeader, asm.Byte),
				asm.JNE.Imm(asm.R1, protoIPv6, "not_tunnelled"),
			},
			// if (bpf_skb_load_bytes(skb, 48, &hoa, 16)) goto malformed
			loadBytes(ipv6HeaderLen+offSrc, slotAddr, addrLen, "malformed"),
			// r7 = bindings[inner source]; if (!r7) goto refused
			lookupBinding(slotAddr, "refused"),
			// if (*r7 != outer.saddr) goto refused
			asm.Instructions{
				asm.LoadMem(asm.R1, asm.R7, 0, asm.DWord),
				asm.LoadMem(asm.R2, asm.R10, slotHeader+offSrc, asm.DWord),
				asm.JNE.Reg(asm.R1, asm.R2, "refused"),
				asm.LoadMem(asm.R1, asm.R7, 8, asm.DWord),
				asm.LoadMem(asm.R2, asm.R10, slotHeader+offSrc+8, asm.DWord),
				asm.JNE.Reg(asm.R1, asm.R2, "refused"),
			},
			// skb->mark |= mark
			asm.Instructions{
				asm.LoadMem(asm.R1, asm.R6, skbMarkOffset, asm.Word),
				asm.Or.Imm32(asm.R1, int32(mark)),
				asm.StoreMem(asm.R6, skbMarkOffset, asm.R1, asm.Word),
			},
			countAndReturn(cntDecapsulated, bpfLWTReroute, "accepted"),
			asm.Instructions{
				asm.Mov.Imm(asm.R0, bpfOK).WithSymbol("not_tunnelled"),
				asm.Return(),
			},
			countAndReturn(cntRefused, bpfDrop, "refused"),
			countAndReturn(cntMalformed, bpfDrop, "malformed"),
		),
	}
}

// loadBytes copies n packet bytes from offset to the stack slot, jumping
// to onError if the packet is too short:
// if (bpf_skb_load_bytes(r6, offset, r10+slot, n)) goto onError.
func loadBytes(offset, slot int16, n int32, onError string) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Imm(asm.R2, int32(offset)),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, int32(slot)),
		asm.Mov.Imm(asm.R4, n),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, onError),
	}
}

// lookupBinding looks the 16-byte key at the stack slot up in the
// bindings map: r7 = bpf_map_lookup_elem(&bindings, r10+slot);
// if (!r7) goto onMiss. r7 then points at the care-of address.
func lookupBinding(slot int16, onMiss string) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference(bindingsMapName),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, int32(slot)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, onMiss),
		asm.Mov.Reg(asm.R7, asm.R0),
	}
}

// countAndReturn adds one to counter c and returns ret; its first
// instruction carries the label symbol:
//
//	symbol: key = c; v = bpf_map_lookup_elem(&stats, &key);
//	        if (v) *v += 1; return ret;
//
// The stats map is per CPU, so the increment needs no atomic operation.
func countAndReturn(c counter, ret int32, symbol string) asm.Instructions {
	done := symbol + "_return"
	return asm.Instructions{
		asm.StoreImm(asm.R10, slotCounter, int64(c), asm.Word).WithSymbol(symbol),
		asm.LoadMapPtr(asm.R1, 0).WithReference(statsMapName),
		asm.Mov.Reg(asm.R2, asm.R10),
		asm.Add.Imm(asm.R2, slotCounter),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, done),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, ret).WithSymbol(done),
		asm.Return(),
	}
}

// native64 returns the 8 bytes b as the integer whose in-memory
// representation they are, for 64-bit immediate stores to the stack.
func native64(b []byte) int64 {
	return int64(binary.NativeEndian.Uint64(b))
}

// collectionSpec puts the maps and programs of one instance together.
func collectionSpec(homeAgent netip.Addr, mark, capacity uint32) *ebpf.CollectionSpec {
	return &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			bindingsMapName: bindingsSpec(capacity),
			statsMapName:    statsSpec(),
		},
		Programs: map[string]*ebpf.ProgramSpec{
			encapProgName: encapSpec(homeAgent),
			checkProgName: checkSpec(mark),
		},
	}
}
