package mh

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// BUFlags are the flag bits of a Binding Update, with the reserved bits
// after them (RFC 6275 §6.1.7; M: RFC 5380, R: RFC 3963, P: RFC 5213).
type BUFlags uint16

// Binding Update flags.
const (
	FlagA BUFlags = 0x8000 // Acknowledge: the sender wants a BA
	FlagH BUFlags = 0x4000 // Home Registration
	FlagL BUFlags = 0x2000 // Link-Local Address Compatibility
	FlagK BUFlags = 0x1000 // Key Management Mobility Capability
	FlagM BUFlags = 0x0800 // MAP Registration (HMIPv6)
	FlagR BUFlags = 0x0400 // Mobile Router (NEMO)
	FlagP BUFlags = 0x0200 // Proxy Registration (PMIPv6)
)

// BindingUpdate is a Binding Update (MH Type 5, RFC 6275 §6.1.7).
type BindingUpdate struct {
	Sequence uint16
	Flags    BUFlags // the flag bits and the reserved bits after them
	Lifetime Lifetime
	Options  Options
}

// Type implements Message.
func (*BindingUpdate) Type() Type { return TypeBindingUpdate }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *BindingUpdate) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *BindingUpdate) appendBody(b []byte, mhStart int) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, m.Sequence)
	b = binary.BigEndian.AppendUint16(b, uint16(m.Flags))
	b = binary.BigEndian.AppendUint16(b, uint16(m.Lifetime))
	return appendOptions(b, mhStart, m.Options)
}

func (m *BindingUpdate) decodeBody(mh []byte) (err error) {
	m.Sequence = binary.BigEndian.Uint16(mh[6:])
	m.Flags = BUFlags(binary.BigEndian.Uint16(mh[8:]))
	m.Lifetime = Lifetime(binary.BigEndian.Uint16(mh[10:]))
	m.Options, err = m.Options.decode(mh, 12)
	return err
}

// AckFlags are the flag bits of a Binding Acknowledgement with the reserved
// bits after them (RFC 6275 §6.1.8; R: RFC 3963, P: RFC 5213).
type AckFlags uint8

// Binding Acknowledgement flags.
const (
	AckFlagK AckFlags = 0x80 // Key Management Mobility Capability
	AckFlagR AckFlags = 0x40 // Mobile Router (NEMO)
	AckFlagP AckFlags = 0x20 // Proxy Registration (PMIPv6)
)

// BindingAck is a Binding Acknowledgement (MH Type 6, RFC 6275 §6.1.8).
type BindingAck struct {
	Status   Status
	Flags    AckFlags
	Sequence uint16
	Lifetime Lifetime
	Options  Options
}

// Type implements Message.
func (*BindingAck) Type() Type { return TypeBindingAck }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *BindingAck) Unmarshal(b []byte) error { return decodeAs(b, m) }

// RefreshInterval returns the Binding Refresh Advice interval, if present.
func (m *BindingAck) RefreshInterval() (Lifetime, bool) {
	o, ok := m.Options.Find(OptRefreshAdvice)
	return o.RefreshInterval, ok
}

func (m *BindingAck) appendBody(b []byte, mhStart int) ([]byte, error) {
	b = append(b, byte(m.Status), byte(m.Flags))
	b = binary.BigEndian.AppendUint16(b, m.Sequence)
	b = binary.BigEndian.AppendUint16(b, uint16(m.Lifetime))
	return appendOptions(b, mhStart, m.Options)
}

func (m *BindingAck) decodeBody(mh []byte) (err error) {
	m.Status, m.Flags = Status(mh[6]), AckFlags(mh[7])
	m.Sequence = binary.BigEndian.Uint16(mh[8:])
	m.Lifetime = Lifetime(binary.BigEndian.Uint16(mh[10:]))
	m.Options, err = m.Options.decode(mh, 12)
	return err
}

// BindingError is a Binding Error (MH Type 7, RFC 6275 §6.1.9).
type BindingError struct {
	Status      ErrorStatus
	Reserved    uint8
	HomeAddress netip.Addr // the home address of the offending packet, or unspecified
	Options     Options
}

// Type implements Message.
func (*BindingError) Type() Type { return TypeBindingError }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *BindingError) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *BindingError) appendBody(b []byte, mhStart int) ([]byte, error) {
	hoa := m.HomeAddress
	if !hoa.IsValid() {
		hoa = netip.IPv6Unspecified()
	}
	if !hoa.Is6() {
		return b, fmt.Errorf("%w: binding error home address %q is not ipv6", ErrInvalidMessage, hoa)
	}
	a := hoa.As16()
	b = append(append(b, byte(m.Status), m.Reserved), a[:]...)
	return appendOptions(b, mhStart, m.Options)
}

func (m *BindingError) decodeBody(mh []byte) (err error) {
	m.Status, m.Reserved = ErrorStatus(mh[6]), mh[7]
	m.HomeAddress = netip.AddrFrom16([16]byte(mh[8:24]))
	m.Options, err = m.Options.decode(mh, 24)
	return err
}

// BindingRefreshRequest is a Binding Refresh Request (MH Type 0, RFC 6275
// §6.1.2).
type BindingRefreshRequest struct {
	Reserved uint16
	Options  Options
}

// Type implements Message.
func (*BindingRefreshRequest) Type() Type { return TypeBindingRefreshRequest }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *BindingRefreshRequest) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *BindingRefreshRequest) appendBody(b []byte, mhStart int) ([]byte, error) {
	return appendOptions(binary.BigEndian.AppendUint16(b, m.Reserved), mhStart, m.Options)
}

func (m *BindingRefreshRequest) decodeBody(mh []byte) (err error) {
	m.Reserved = binary.BigEndian.Uint16(mh[6:])
	m.Options, err = m.Options.decode(mh, 8)
	return err
}

// Unknown is a message of a type this package does not know, kept as the
// octets after the common fields (copied, never aliasing the input).
type Unknown struct {
	MHType Type
	Data   []byte
}

// Type implements Message.
func (m *Unknown) Type() Type { return m.MHType }

func (m *Unknown) appendBody(b []byte, _ int) ([]byte, error) { return append(b, m.Data...), nil }

func (m *Unknown) decodeBody(mh []byte) error {
	m.MHType = Type(mh[offType])
	m.Data = append(m.Data[:0], mh[headerLen:]...)
	return nil
}
