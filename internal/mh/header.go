package mh

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// headerLen is the length of the fields common to every message: Payload
// Proto, Header Len, MH Type, Reserved and Checksum.
const headerLen = 6

// Offsets of the common fields, for Parameter Problem pointers.
const (
	offPayloadProto = 0
	offHeaderLen    = 1
	offType         = 2
)

// Header is the part of the Mobility Header common to all messages.
type Header struct {
	Type     Type
	Length   int // the whole Mobility Header in octets: (Header Len + 1) * 8
	Checksum uint16
}

// ParseHeader reads the common fields at the start of b and applies the
// receive checks of RFC 6275 §9.2 that need no addresses: Payload Proto must
// be 59, and Header Len must fit both the message type and b. It does not
// verify the checksum nor reject unknown types; Packet.Unmarshal does both.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < headerLen {
		return Header{}, dropErr(ErrTruncated, "%d octets, need at least %d", len(b), headerLen)
	}
	h := Header{
		Type:     Type(b[offType]),
		Length:   (int(b[offHeaderLen]) + 1) * 8,
		Checksum: binary.BigEndian.Uint16(b[checksumOffset:]),
	}
	if b[offPayloadProto] != protoNone {
		return h, paramProblem(ErrPayloadProto, CodeErroneousHeaderField, offPayloadProto,
			"payload proto %d", b[offPayloadProto])
	}
	if h.Type.Known() && int(b[offHeaderLen]) < h.Type.minHeaderLen() {
		return h, paramProblem(ErrHeaderLen, CodeErroneousHeaderField, offHeaderLen,
			"header len %d, %v needs at least %d", b[offHeaderLen], h.Type, h.Type.minHeaderLen())
	}
	if h.Length > len(b) {
		return h, paramProblem(ErrHeaderLenOverrun, CodeErroneousHeaderField, offHeaderLen,
			"header len %d means %d octets, %d present", b[offHeaderLen], h.Length, len(b))
	}
	return h, nil
}

// Message is one Mobility Header message. The concrete types are
// *BindingUpdate, *BindingAck, *BindingError, *BindingRefreshRequest,
// *HomeTestInit, *CareOfTestInit, *HomeTest, *CareOfTest and *Unknown.
type Message interface {
	// Type is the MH Type the message is sent with.
	Type() Type
	// appendBody appends what follows the common fields; mhStart is the
	// index in b where the Mobility Header starts, for option alignment.
	appendBody(b []byte, mhStart int) ([]byte, error)
	// decodeBody reads the message from mh, a whole Mobility Header whose
	// common fields ParseHeader has accepted.
	decodeBody(mh []byte) error
}

// Append appends m as a Mobility Header to b, padded to a multiple of 8
// octets, with the checksum computed for the pseudo-header addresses src and
// dst (see Checksum).
func Append(b []byte, m Message, src, dst netip.Addr) ([]byte, error) {
	start := len(b)
	b, err := appendUnchecked(b, m)
	if err != nil {
		return b[:start], err
	}
	putChecksum(b[start:], src, dst)
	return b, nil
}

// Marshal returns m as a Mobility Header with its checksum (see Append).
func Marshal(m Message, src, dst netip.Addr) ([]byte, error) {
	return Append(nil, m, src, dst)
}

// appendUnchecked appends m with a zero checksum.
func appendUnchecked(b []byte, m Message) ([]byte, error) {
	start := len(b)
	b = append(b, protoNone, 0, byte(m.Type()), 0, 0, 0)
	b, err := m.appendBody(b, start)
	if err != nil {
		return b[:start], err
	}
	b = appendPadTo8(b, start)
	n := len(b) - start
	if n > 256*8 {
		return b[:start], fmt.Errorf("%w: %v of %d octets is longer than header len can say", ErrInvalidMessage, m.Type(), n)
	}
	b[start+offHeaderLen] = byte(n/8 - 1)
	return b, nil
}

// decodeAs checks that b holds a Mobility Header of m's type and decodes it.
func decodeAs(b []byte, m Message) error {
	h, err := ParseHeader(b)
	if err != nil {
		return err
	}
	if h.Type != m.Type() {
		return dropErr(ErrWrongType, "got %v, want %v", h.Type, m.Type())
	}
	return m.decodeBody(b[:h.Length])
}

// Parse decodes the Mobility Header at the start of b into a new message of
// the right type; an unknown type gives *Unknown. Octets past Header Len are
// ignored. Use the Unmarshal methods to decode without allocating.
func Parse(b []byte) (Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	m := newMessage(h.Type)
	if err := m.decodeBody(b[:h.Length]); err != nil {
		return nil, err
	}
	return m, nil
}

func newMessage(t Type) Message {
	switch t {
	case TypeBindingRefreshRequest:
		return &BindingRefreshRequest{}
	case TypeHomeTestInit:
		return &HomeTestInit{}
	case TypeCareOfTestInit:
		return &CareOfTestInit{}
	case TypeHomeTest:
		return &HomeTest{}
	case TypeCareOfTest:
		return &CareOfTest{}
	case TypeBindingUpdate:
		return &BindingUpdate{}
	case TypeBindingAck:
		return &BindingAck{}
	case TypeBindingError:
		return &BindingError{}
	default:
		return &Unknown{MHType: t}
	}
}
