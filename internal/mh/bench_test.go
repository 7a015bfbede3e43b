package mh_test

import (
	"testing"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// The hot path of a Home Agent: decode a BU packet into a reused value,
// build the BA packet into a reused buffer. Run with
// go test -run '^$' -bench . -benchmem ./internal/mh/

func BenchmarkParsePacketBU(b *testing.B) {
	wire := buPacket(&testing.T{})
	var p mh.Packet
	var bu mh.BindingUpdate
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Unmarshal(wire); err != nil {
			b.Fatal(err)
		}
		if err := bu.Unmarshal(p.MH); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalBU(b *testing.B) {
	benchUnmarshal(b, &mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA | mh.FlagH, Lifetime: 60}, &mh.BindingUpdate{})
}

func BenchmarkUnmarshalBA(b *testing.B) {
	benchUnmarshal(b, &mh.BindingAck{Sequence: 7, Lifetime: 60, Options: mh.Options{mh.RefreshAdvice(45)}}, &mh.BindingAck{})
}

func BenchmarkParsePacketBA(b *testing.B) {
	wire := unhex(&testing.T{}, goldenPackets[1].wire)
	var p mh.Packet
	var ba mh.BindingAck
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Unmarshal(wire); err != nil {
			b.Fatal(err)
		}
		if err := ba.Unmarshal(p.MH); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalBU(b *testing.B) {
	benchMarshal(b, &mh.Packet{Src: careOf, Dst: homeAgent, HomeAddress: homeAddr},
		&mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA | mh.FlagH, Lifetime: 60})
}

func BenchmarkMarshalBA(b *testing.B) {
	benchMarshal(b, &mh.Packet{Src: homeAgent, Dst: careOf, RoutingAddress: homeAddr},
		&mh.BindingAck{Sequence: 7, Lifetime: 60, Options: mh.Options{mh.RefreshAdvice(45)}})
}

func benchUnmarshal(b *testing.B, msg mh.Message, into interface{ Unmarshal([]byte) error }) {
	wire, err := mh.Marshal(msg, careOf, homeAgent)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if err := into.Unmarshal(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMarshal(b *testing.B, p *mh.Packet, msg mh.Message) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		out, err := mh.AppendPacket(buf[:0], p, msg)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

func BenchmarkMarshalMHBU(b *testing.B) {
	benchMarshalMH(b, &mh.BindingUpdate{Sequence: 7, Flags: mh.FlagA | mh.FlagH, Lifetime: 60})
}

func BenchmarkMarshalMHBA(b *testing.B) {
	benchMarshalMH(b, &mh.BindingAck{Sequence: 7, Lifetime: 60, Options: mh.Options{mh.RefreshAdvice(45)}})
}

// benchMarshalMH appends the Mobility Header alone, checksum included.
func benchMarshalMH(b *testing.B, msg mh.Message) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		out, err := mh.Append(buf[:0], msg, careOf, homeAgent)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}
