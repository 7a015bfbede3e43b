package mhio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

func TestAppendParameterProblem(t *testing.T) {
	p := mh.Packet{Src: careOf, Dst: haAddr}
	invoking, err := mh.AppendPacket(nil, &p, &mh.Unknown{MHType: 42, Data: make([]byte, 2000)})
	if err != nil {
		t.Fatal(err)
	}
	padded := append(bytes.Clone(invoking), 0, 0, 0, 0) // link-layer padding
	for name, in := range map[string][]byte{"long": padded, "short": invoking[:100]} {
		b, err := appendParameterProblem(nil, in, 2, 46)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := min(len(in), 1280-48)
		if len(b) != 48+want || int(binary.BigEndian.Uint16(b[4:])) != 8+want {
			t.Errorf("%s: %d octets, payload length %d; want %d", name, len(b), binary.BigEndian.Uint16(b[4:]), 48+want)
		}
		if netipFrom16(b[8:24]) != haAddr || netipFrom16(b[24:40]) != careOf || b[6] != protoICMPv6 {
			t.Errorf("%s: header %x, want %s > %s icmpv6", name, b[:40], haAddr, careOf)
		}
		if b[40] != 4 || b[41] != 2 || binary.BigEndian.Uint32(b[44:]) != 46 || !bytes.Equal(b[48:], in[:want]) {
			t.Errorf("%s: icmpv6 %x", name, b[40:56])
		}
		if sum := icmpChecksum(b[40:], haAddr, careOf); sum != 0 {
			t.Errorf("%s: checksum does not verify (%#04x)", name, sum)
		}
	}
}

func TestAppendParameterProblemRefuses(t *testing.T) {
	multicastSrc := make([]byte, 40)
	multicastSrc[0], multicastSrc[8] = 0x60, 0xff
	unspecifiedSrc := make([]byte, 40)
	unspecifiedSrc[0] = 0x60
	for name, in := range map[string][]byte{
		"short":              make([]byte, 39),
		"ipv4":               append([]byte{0x45}, make([]byte, 39)...),
		"multicast source":   multicastSrc,
		"unspecified source": unspecifiedSrc,
	} {
		if _, err := appendParameterProblem(nil, in, 0, 0); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%s: %v, want ErrInvalidPacket", name, err)
		}
	}
}

func TestTokenBucket(t *testing.T) {
	var tb tokenBucket
	now := time.Unix(1000, 0)
	for i := range icmpBurst {
		if !tb.allow(now) {
			t.Fatalf("token %d of the burst refused", i)
		}
	}
	if tb.allow(now) {
		t.Fatal("token beyond the burst allowed")
	}
	now = now.Add(icmpInterval)
	if !tb.allow(now) || tb.allow(now) {
		t.Fatal("want exactly one token after one interval")
	}
	now = now.Add(time.Hour)
	for i := range icmpBurst {
		if !tb.allow(now) {
			t.Fatalf("after an hour: token %d refused", i)
		}
	}
	if tb.allow(now) {
		t.Fatal("after an hour: more than a burst allowed")
	}
}
