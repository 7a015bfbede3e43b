package mh_test

import (
	"errors"
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// buPacket returns the golden BU-with-HAO packet; the MH starts at 64.
func buPacket(t *testing.T) []byte { return unhex(t, goldenPackets[0].wire) }

const buMH = 64 // offset of the Mobility Header in buPacket

// fixChecksum recomputes the MH checksum of the BU packet after an edit.
func fixChecksum(b []byte) {
	mhb := b[buMH:]
	c := mh.Checksum(mhb, homeAddr, homeAgent)
	mhb[4], mhb[5] = byte(c>>8), byte(c)
}

func TestReceiveChecks(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(b []byte) []byte
		cause   error
		action  mh.Action
		pointer int // for parameter problems, from the IPv6 header
		code    uint8
	}{{
		name:  "bad checksum is dropped silently",
		edit:  func(b []byte) []byte { b[buMH+5] ^= 1; return b },
		cause: mh.ErrChecksum, action: mh.ActionDrop,
	}, {
		name:  "payload proto other than 59 points at payload proto",
		edit:  func(b []byte) []byte { b[buMH] = 6; fixChecksum(b); return b },
		cause: mh.ErrPayloadProto, action: mh.ActionParameterProblem, pointer: buMH,
	}, {
		name: "header len below the BU minimum points at header len",
		edit: func(b []byte) []byte {
			b[buMH+1] = 0 // 8 octets: too short for a BU
			return b
		},
		cause: mh.ErrHeaderLen, action: mh.ActionParameterProblem, pointer: buMH + 1,
	}, {
		name:  "header len past the packet points at header len",
		edit:  func(b []byte) []byte { b[buMH+1] = 2; return b },
		cause: mh.ErrHeaderLenOverrun, action: mh.ActionParameterProblem, pointer: buMH + 1,
	}, {
		name:  "unknown MH type answers binding error 2",
		edit:  func(b []byte) []byte { b[buMH+2] = 42; fixChecksum(b); return b },
		cause: mh.ErrUnknownType, action: mh.ActionBindingError,
	}, {
		name:  "truncated IPv6 header",
		edit:  func(b []byte) []byte { return b[:39] },
		cause: mh.ErrTruncated, action: mh.ActionDrop,
	}, {
		name:  "payload length past the frame",
		edit:  func(b []byte) []byte { return b[:len(b)-1] },
		cause: mh.ErrTruncated, action: mh.ActionDrop,
	}, {
		name:  "IPv4",
		edit:  func(b []byte) []byte { b[0] = 0x45; return b },
		cause: mh.ErrNotIPv6, action: mh.ActionDrop,
	}, {
		name:  "not a mobility header",
		edit:  func(b []byte) []byte { b[40] = 17; return b }, // dest opts → UDP
		cause: mh.ErrNoMobilityHeader, action: mh.ActionDrop,
	}, {
		name:  "home address option of the wrong length points at its length",
		edit:  func(b []byte) []byte { b[47] = 15; return b },
		cause: mh.ErrHomeAddress, action: mh.ActionParameterProblem, pointer: 47,
	}, {
		name:  "multicast home address",
		edit:  func(b []byte) []byte { b[48] = 0xff; fixChecksum(b); return b },
		cause: mh.ErrHomeAddress, action: mh.ActionDrop,
	}, {
		name:  "unknown destination option that must be reported",
		edit:  func(b []byte) []byte { b[42] = 0x81; return b }, // PadN → type 0x81 (discard + ICMP)
		cause: mh.ErrDestOption, action: mh.ActionParameterProblem, pointer: 42, code: mh.CodeUnrecognizedOption,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p mh.Packet
			err := p.Unmarshal(c.edit(buPacket(t)))
			if !errors.Is(err, c.cause) {
				t.Fatalf("error %v, want cause %v", err, c.cause)
			}
			var e *mh.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *mh.Error", err)
			}
			if e.Action != c.action || mh.ActionOf(err) != c.action {
				t.Errorf("action %v, want %v", e.Action, c.action)
			}
			if c.action == mh.ActionParameterProblem && (e.Pointer != c.pointer || e.Code != c.code) {
				t.Errorf("parameter problem code %d pointer %d, want code %d pointer %d", e.Code, e.Pointer, c.code, c.pointer)
			}
			if c.action == mh.ActionBindingError && e.Status != mh.ErrorStatusUnknownType {
				t.Errorf("binding error status %v, want 2", e.Status)
			}
		})
	}
}

func TestUnknownTypeKeepsAddressesForTheBindingError(t *testing.T) {
	b := buPacket(t)
	b[buMH+2] = 42
	fixChecksum(b)
	var p mh.Packet
	if err := p.Unmarshal(b); mh.ActionOf(err) != mh.ActionBindingError {
		t.Fatalf("error %v, want a binding error", err)
	}
	if p.Src != careOf || p.HomeAddress != homeAddr || p.Header.Type != 42 || len(p.MH) != 16 {
		t.Errorf("packet %+v lacks what a binding error needs", p)
	}
	msg, err := mh.Parse(p.MH)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	u, ok := msg.(*mh.Unknown)
	if !ok || u.Type() != 42 || len(u.Data) != 10 {
		t.Fatalf("Parse gave %#v, want *mh.Unknown of type 42 with 10 octets", msg)
	}
	b[buMH+6] ^= 0xff
	if u.Data[0] == b[buMH+6] {
		t.Errorf("Unknown.Data aliases the input")
	}
}

func TestOptionChecks(t *testing.T) {
	cases := []struct {
		name  string
		mh    string
		cause error
	}{
		{"alternate care-of address misaligned", `3b 03 05 00 0000 0001 0000 0000 03 10 20010db8000b00000000000000000002 0102 0000`, mh.ErrOptionAlignment},
		{"refresh advice of length 3", `3b 02 06 00 0000 00 00 0001 0000 02 03 000000 01 05 0000000000`, mh.ErrOptionLength},
		{"option type without its length octet", `3b 01 05 00 0000 0001 0000 0000 00 00 00 02`, mh.ErrOptionOverrun},
		{"nonce indices misaligned", `3b 02 05 00 0000 0001 0000 0000 00 04 04 0000 0000 01 03 000000`, mh.ErrOptionAlignment},
		{"mobile network prefix longer than 128 bits", `3b 03 05 00 0000 0001 0400 0000 06 12 00 81 20010db8000500000000000000000000 0102 0000`, mh.ErrOptionValue},
		{"padding overrunning the header", `3b 01 05 00 0000 0001 0000 0000 01 09 0000`, mh.ErrOptionOverrun},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := mh.Parse(unhex(t, c.mh))
			if !errors.Is(err, c.cause) || mh.ActionOf(err) != mh.ActionDrop {
				t.Errorf("error %v, want %v and drop", err, c.cause)
			}
		})
	}
}

func TestUnmarshalRejectsAnotherType(t *testing.T) {
	var ba mh.BindingAck
	err := ba.Unmarshal(buPacket(t)[buMH:])
	if !errors.Is(err, mh.ErrWrongType) {
		t.Errorf("BindingAck.Unmarshal of a BU: %v, want ErrWrongType", err)
	}
}

func TestMarshalRejectsBadValues(t *testing.T) {
	v4 := mustAddr("192.0.2.1")
	cases := []struct {
		name string
		msg  mh.Message
		p    mh.Packet
	}{
		{"IPv4 alternate care-of address", &mh.BindingUpdate{Options: mh.Options{mh.AlternateCareOf(v4)}}, mh.Packet{Src: careOf, Dst: homeAgent}},
		{"prefix length 129", &mh.BindingUpdate{Options: mh.Options{{Type: mh.OptMobileNetworkPrefix, Addr: homeAddr, PrefixLen: 129}}}, mh.Packet{Src: careOf, Dst: homeAgent}},
		{"option body over 255 octets", &mh.BindingUpdate{Options: mh.Options{mh.AuthorizationData(make([]byte, 256))}}, mh.Packet{Src: careOf, Dst: homeAgent}},
		{"IPv4 source", &mh.BindingUpdate{}, mh.Packet{Src: v4, Dst: homeAgent}},
		{"missing destination", &mh.BindingUpdate{}, mh.Packet{Src: careOf}},
		{"IPv4 binding error home address", &mh.BindingError{HomeAddress: v4}, mh.Packet{Src: homeAgent, Dst: careOf}},
		{"message longer than header len can say", &mh.Unknown{MHType: 9, Data: make([]byte, 2048)}, mh.Packet{Src: careOf, Dst: homeAgent}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte{1, 2, 3}
			b, err := mh.AppendPacket(prefix, &c.p, c.msg)
			if !errors.Is(err, mh.ErrInvalidMessage) {
				t.Errorf("error %v, want ErrInvalidMessage", err)
			}
			if len(b) != len(prefix) {
				t.Errorf("a failed append left %d octets, want the %d it was given", len(b), len(prefix))
			}
		})
	}
}
