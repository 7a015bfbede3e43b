package mh

import (
	"fmt"
	"time"
)

// ProtoMH is the IPv6 Next Header value of the Mobility Header.
const ProtoMH = 135

// protoNone is IPPROTO_NONE, the only valid Payload Proto of a Mobility Header.
const protoNone = 59

// Type is the MH Type field (RFC 6275 §6.1.2 to §6.1.9).
type Type uint8

// Mobility Header message types.
const (
	TypeBindingRefreshRequest Type = 0
	TypeHomeTestInit          Type = 1
	TypeCareOfTestInit        Type = 2
	TypeHomeTest              Type = 3
	TypeCareOfTest            Type = 4
	TypeBindingUpdate         Type = 5
	TypeBindingAck            Type = 6
	TypeBindingError          Type = 7
)

var typeNames = [...]string{"BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BA", "BE"}

func (t Type) String() string {
	if t.Known() {
		return typeNames[t]
	}
	return fmt.Sprintf("MH type %d", uint8(t))
}

// Known reports whether t is one of the eight types RFC 6275 defines.
func (t Type) Known() bool { return t <= TypeBindingError }

// minLen is the shortest message of each type in octets, header included,
// before rounding up to 8 (RFC 6275 §6.1.2-§6.1.9).
var minLen = [...]int{8, 16, 16, 24, 24, 12, 12, 24}

// minHeaderLen returns the smallest Header Len a known type may carry.
func (t Type) minHeaderLen() int { return (minLen[t]+7)/8 - 1 }

// Lifetime is a time in the 4-second units of the BU and BA Lifetime
// fields and of the Binding Refresh Advice interval.
type Lifetime uint16

// LifetimeUnit is the duration of one Lifetime unit.
const LifetimeUnit = 4 * time.Second

// MaxLifetime is the longest lifetime the 16-bit field holds.
const MaxLifetime = Lifetime(0xffff)

// Duration converts l to a time.Duration.
func (l Lifetime) Duration() time.Duration { return time.Duration(l) * LifetimeUnit }

// LifetimeOf converts d to whole 4-second units, rounding down and saturating
// at MaxLifetime; a negative d gives 0.
func LifetimeOf(d time.Duration) Lifetime {
	switch units := d / LifetimeUnit; {
	case units <= 0:
		return 0
	case units >= time.Duration(MaxLifetime):
		return MaxLifetime
	default:
		return Lifetime(units)
	}
}

// SequenceNewer reports whether sequence number y is newer than x, comparing
// modulo 2^16 as RFC 6275 §9.5.1 requires: y is newer when it lies in the
// 32767 values following x.
func SequenceNewer(y, x uint16) bool { return int16(y-x) > 0 }
