package mh

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// OptionType is the type of a mobility option (RFC 6275 §6.2, RFC 3963 §4.3).
type OptionType uint8

// Mobility option types.
const (
	OptPad1                 OptionType = 0
	OptPadN                 OptionType = 1
	OptRefreshAdvice        OptionType = 2
	OptAlternateCareOf      OptionType = 3
	OptNonceIndices         OptionType = 4
	OptAuthorizationData    OptionType = 5
	OptMobileNetworkPrefix  OptionType = 6
	optLastKnown                       = OptMobileNetworkPrefix
	bodyLenRefreshAdvice               = 2
	bodyLenAlternateCareOf             = 16
	bodyLenNonceIndices                = 4
	bodyLenMobileNetworkPre            = 18
)

var optionNames = [...]string{"Pad1", "PadN", "Binding Refresh Advice", "Alternate Care-of Address",
	"Nonce Indices", "Binding Authorization Data", "Mobile Network Prefix"}

func (t OptionType) String() string {
	if t <= optLastKnown {
		return optionNames[t]
	}
	return fmt.Sprintf("option %d", uint8(t))
}

// optionRule is an option's alignment (RFC 6275 §6.2.1: "xn+y", measured
// from the start of the Mobility Header) and its body length (-1: any).
type optionRule struct{ x, y, bodyLen int }

var optionRules = [...]optionRule{
	OptPad1:                {1, 0, -1},
	OptPadN:                {1, 0, -1},
	OptRefreshAdvice:       {2, 0, bodyLenRefreshAdvice},
	OptAlternateCareOf:     {8, 6, bodyLenAlternateCareOf},
	OptNonceIndices:        {2, 0, bodyLenNonceIndices},
	OptAuthorizationData:   {8, 2, -1},
	OptMobileNetworkPrefix: {8, 4, bodyLenMobileNetworkPre},
}

func ruleOf(t OptionType) optionRule {
	if t <= optLastKnown {
		return optionRules[t]
	}
	return optionRule{1, 0, -1}
}

// Option is one mobility option. Which fields are used depends on Type:
//
//	Pad1                        none
//	PadN                        Data: its content (zeros when sent)
//	Binding Refresh Advice      RefreshInterval
//	Alternate Care-of Address   Addr
//	Nonce Indices               HomeNonceIndex, CareOfNonceIndex
//	Binding Authorization Data  Data: the authenticator
//	Mobile Network Prefix       Addr, PrefixLen, Reserved
//	any other type              Data: the body, kept as received
//
// A flat value rather than one type per option lets a decoder reuse a
// message's Options slice without allocating.
type Option struct {
	Type             OptionType
	Data             []byte
	RefreshInterval  Lifetime
	Addr             netip.Addr
	PrefixLen        uint8
	Reserved         uint8
	HomeNonceIndex   uint16
	CareOfNonceIndex uint16
}

// PadN returns a PadN option of n octets in all (n >= 2).
func PadN(n int) Option { return Option{Type: OptPadN, Data: make([]byte, max(n-2, 0))} }

// RefreshAdvice returns a Binding Refresh Advice option.
func RefreshAdvice(interval Lifetime) Option {
	return Option{Type: OptRefreshAdvice, RefreshInterval: interval}
}

// AlternateCareOf returns an Alternate Care-of Address option.
func AlternateCareOf(coa netip.Addr) Option { return Option{Type: OptAlternateCareOf, Addr: coa} }

// NonceIndices returns a Nonce Indices option.
func NonceIndices(home, careOf uint16) Option {
	return Option{Type: OptNonceIndices, HomeNonceIndex: home, CareOfNonceIndex: careOf}
}

// AuthorizationData returns a Binding Authorization Data option.
func AuthorizationData(authenticator []byte) Option {
	return Option{Type: OptAuthorizationData, Data: authenticator}
}

// MobileNetworkPrefix returns a Mobile Network Prefix option (RFC 3963).
func MobileNetworkPrefix(p netip.Prefix) Option {
	return Option{Type: OptMobileNetworkPrefix, Addr: p.Addr(), PrefixLen: uint8(p.Bits())}
}

// Options is the option list of a message, in wire order, padding included.
type Options []Option

// Find returns the first option of type t.
func (o Options) Find(t OptionType) (Option, bool) {
	for i := range o {
		if o[i].Type == t {
			return o[i], true
		}
	}
	return Option{}, false
}

// Has reports whether an option of type t is present.
func (o Options) Has(t OptionType) bool {
	_, ok := o.Find(t)
	return ok
}

// decode reads the options of mh starting at offset start, reusing o's
// storage, and returns the list.
func (o Options) decode(mh []byte, start int) (Options, error) {
	o = o[:0]
	for off := start; off < len(mh); {
		var opt *Option
		o, opt = grow(o)
		n, err := opt.decode(mh, off)
		if err != nil {
			return o[:0], err
		}
		off += n
	}
	return o, nil
}

// grow extends o by one element, keeping the element's old Data storage.
func grow(o Options) (Options, *Option) {
	if len(o) < cap(o) {
		o = o[:len(o)+1]
	} else {
		o = append(o, Option{})
	}
	opt := &o[len(o)-1]
	*opt = Option{Data: opt.Data[:0]}
	return o, opt
}

// decode reads the option at mh[off:] and returns its length in octets.
func (opt *Option) decode(mh []byte, off int) (int, error) {
	opt.Type = OptionType(mh[off])
	if opt.Type == OptPad1 {
		opt.Data = nil
		return 1, nil
	}
	if off+2 > len(mh) || off+2+int(mh[off+1]) > len(mh) {
		return 0, dropErr(ErrOptionOverrun, "%v at offset %d", opt.Type, off)
	}
	body := mh[off+2 : off+2+int(mh[off+1])]
	rule := ruleOf(opt.Type)
	if rule.bodyLen >= 0 && len(body) != rule.bodyLen {
		return 0, dropErr(ErrOptionLength, "%v has length %d, want %d", opt.Type, len(body), rule.bodyLen)
	}
	if off%rule.x != rule.y {
		return 0, dropErr(ErrOptionAlignment, "%v at offset %d, needs %dn+%d", opt.Type, off, rule.x, rule.y)
	}
	opt.decodeBody(body)
	if opt.Type == OptMobileNetworkPrefix && opt.PrefixLen > 128 {
		return 0, dropErr(ErrOptionValue, "%v with prefix length %d", opt.Type, opt.PrefixLen)
	}
	return 2 + len(body), nil
}

func (opt *Option) decodeBody(body []byte) {
	switch opt.Type {
	case OptRefreshAdvice:
		opt.RefreshInterval = Lifetime(binary.BigEndian.Uint16(body))
		opt.Data = nil
	case OptAlternateCareOf:
		opt.Addr = netip.AddrFrom16([16]byte(body))
		opt.Data = nil
	case OptNonceIndices:
		opt.HomeNonceIndex = binary.BigEndian.Uint16(body)
		opt.CareOfNonceIndex = binary.BigEndian.Uint16(body[2:])
		opt.Data = nil
	case OptMobileNetworkPrefix:
		opt.Reserved, opt.PrefixLen = body[0], body[1]
		opt.Addr = netip.AddrFrom16([16]byte(body[2:]))
		opt.Data = nil
	default:
		opt.Data = append(opt.Data[:0], body...)
	}
}

// appendOptions appends o, inserting before each option the padding its
// alignment rule needs; mhStart is where the Mobility Header starts in b.
func appendOptions(b []byte, mhStart int, o Options) ([]byte, error) {
	for i := range o {
		rule := ruleOf(o[i].Type)
		b = appendPad(b, (rule.y-(len(b)-mhStart)%rule.x+rule.x)%rule.x)
		var err error
		if b, err = o[i].append(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (opt *Option) append(b []byte) ([]byte, error) {
	switch opt.Type {
	case OptPad1:
		return append(b, 0), nil
	case OptRefreshAdvice:
		return binary.BigEndian.AppendUint16(append(b, byte(opt.Type), 2), uint16(opt.RefreshInterval)), nil
	case OptAlternateCareOf:
		return appendAddrOption(b, opt.Type, nil, opt.Addr)
	case OptNonceIndices:
		b = append(b, byte(opt.Type), 4)
		b = binary.BigEndian.AppendUint16(b, opt.HomeNonceIndex)
		return binary.BigEndian.AppendUint16(b, opt.CareOfNonceIndex), nil
	case OptMobileNetworkPrefix:
		if opt.PrefixLen > 128 {
			return b, fmt.Errorf("%w: %v prefix length %d", ErrInvalidMessage, opt.Type, opt.PrefixLen)
		}
		return appendAddrOption(b, opt.Type, []byte{opt.Reserved, opt.PrefixLen}, opt.Addr)
	default:
		if len(opt.Data) > 255 {
			return b, fmt.Errorf("%w: %v body of %d octets exceeds 255", ErrInvalidMessage, opt.Type, len(opt.Data))
		}
		return append(append(b, byte(opt.Type), byte(len(opt.Data))), opt.Data...), nil
	}
}

func appendAddrOption(b []byte, t OptionType, prefix []byte, a netip.Addr) ([]byte, error) {
	if !a.Is6() {
		return b, fmt.Errorf("%w: %v needs an IPv6 address, got %q", ErrInvalidMessage, t, a)
	}
	a16 := a.As16()
	b = append(b, byte(t), byte(len(prefix)+16))
	return append(append(b, prefix...), a16[:]...), nil
}

// appendPad appends n octets of padding: Pad1 for one, PadN for more.
func appendPad(b []byte, n int) []byte {
	switch n {
	case 0:
		return b
	case 1:
		return append(b, byte(OptPad1))
	default:
		b = append(b, byte(OptPadN), byte(n-2))
		for range n - 2 {
			b = append(b, 0)
		}
		return b
	}
}

// appendPadTo8 pads the Mobility Header that starts at mhStart to a
// multiple of 8 octets.
func appendPadTo8(b []byte, mhStart int) []byte {
	return appendPad(b, (8-(len(b)-mhStart)%8)%8)
}
