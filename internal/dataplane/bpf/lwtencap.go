package bpf

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
)

// lwtBPF is the RTA_ENCAP of an "encap bpf" route with one program. The
// netlink library's BpfEncap names the program "<name>[fd:<n>]", a file
// descriptor of this process that means nothing to an operator or to the
// next run; this type sends the name as given.
type lwtBPF struct {
	mode     int // nl.LWT_BPF_IN or nl.LWT_BPF_XMIT
	fd       int
	name     string
	headroom uint32 // xmit only: bytes the program adds
}

var _ netlink.Encap = (*lwtBPF)(nil)

func (e *lwtBPF) Type() int { return nl.LWTUNNEL_ENCAP_BPF }

// Encode builds nested attributes: mode { LWT_BPF_PROG_FD, LWT_BPF_PROG_NAME },
// then LWT_BPF_XMIT_HEADROOM.
func (e *lwtBPF) Encode() ([]byte, error) {
	if e.fd <= 0 || e.name == "" {
		return nil, errors.New("lwt bpf encap needs a program fd and name")
	}
	prog := nl.NewRtAttr(e.mode, nil)
	prog.AddRtAttr(nl.LWT_BPF_PROG_FD, nl.Uint32Attr(uint32(e.fd)))
	prog.AddRtAttr(nl.LWT_BPF_PROG_NAME, nl.ZeroTerminated(e.name))
	buf := prog.Serialize()
	if e.headroom > 0 {
		buf = append(buf, nl.NewRtAttr(nl.LWT_BPF_XMIT_HEADROOM, nl.Uint32Attr(e.headroom)).Serialize()...)
	}
	return buf, nil
}

// Decode is never used: routes read back decode as netlink.BpfEncap.
func (e *lwtBPF) Decode([]byte) error { return errors.New("lwtBPF is encode-only") }

func (e *lwtBPF) String() string { return fmt.Sprintf("bpf mode %d %s", e.mode, e.name) }

func (e *lwtBPF) Equal(x netlink.Encap) bool {
	o, ok := x.(*lwtBPF)
	return ok && *o == *e
}
