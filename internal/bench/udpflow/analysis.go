package udpflow

import (
	"slices"
	"time"
)

// Stats is what became of a flow.
type Stats struct {
	// Sent is the number of packets sent (sequence numbers 0 to Sent-1),
	// SendErrors those of them the kernel refused.
	Sent, SendErrors int
	// Received counts the flow's datagrams that arrived, duplicates
	// included (sequence numbers never sent are ignored); Unique the distinct sequence numbers among them; Lost
	// = Sent - Unique (refused sends included); Duplicates = Received -
	// Unique.
	Received, Unique, Lost, Duplicates int
	// Reordered counts datagrams that arrived after one with a higher
	// sequence number.
	Reordered int

	// LongestGap is the longest time without an arrival: between two
	// consecutive arrivals, or from the last arrival to the end of
	// sending if that is longer. GapStart is the arrival before it (the
	// start of sending if nothing arrived), GapEnd the arrival after it
	// (zero if none came). A stall of the sender or receiver shows here
	// as well as a cut path.
	LongestGap       time.Duration
	GapStart, GapEnd time.Time

	// LossRuns is the number of separate runs of consecutive lost
	// sequence numbers; FirstLost and LastLost the first and last lost
	// (-1 when nothing was lost).
	LossRuns, FirstLost, LastLost int
	// LongestLossRun is the longest run in packets, LongestLossRunTime
	// the time over which it was sent: from sending its first packet to
	// sending the next one, which arrived (to the end of sending if none
	// did).
	LongestLossRun     int
	LongestLossRunTime time.Duration
	// Outage is from sending the last packet that arrived before
	// FirstLost (the start of sending if none) to sending LastLost+1, the
	// first that arrived after the last loss (the end of sending if none):
	// the time over which nothing sent got through, to one packet
	// spacing, on the sender's clock, so a stalled receiver does not
	// count. A sender that stalled within it widens it: nothing showed
	// the path working then either.
	Outage time.Duration
	// Recovered says a packet sent after LastLost arrived (true when
	// nothing was lost); RecoveredAt is when LastLost+1 arrived (zero
	// when nothing was lost or the flow never recovered).
	Recovered   bool
	RecoveredAt time.Time
}

// Analyze compares what was sent with what arrived (in arrival order).
// Without Sent.At, the times of lost packets come out zero.
func Analyze(sent Sent, arrivals []Arrival) Stats {
	s := Stats{Sent: sent.Packets, SendErrors: sent.Errors, FirstLost: -1, LastLost: -1}
	firstArrival := make([]int64, sent.Packets) // by sequence number; 0: never arrived
	var highest uint64
	for _, a := range arrivals {
		if a.Seq >= uint64(len(firstArrival)) {
			continue // never sent: not of this flow
		}
		if firstArrival[a.Seq] != 0 {
			s.Duplicates++
		} else {
			firstArrival[a.Seq] = a.Received
			s.Unique++
		}
		if s.Received > 0 && a.Seq < highest {
			s.Reordered++
		}
		highest = max(highest, a.Seq)
		s.Received++
	}
	s.Lost = s.Sent - s.Unique
	s.gaps(sent, arrivals)
	s.losses(sent, firstArrival)
	return s
}

// gaps finds the longest stretch without arrivals.
func (s *Stats) gaps(sent Sent, arrivals []Arrival) {
	if len(arrivals) == 0 {
		s.GapStart, s.LongestGap = sent.Start, sent.End.Sub(sent.Start)
		return
	}
	for i := 1; i < len(arrivals); i++ {
		if gap := time.Duration(arrivals[i].Received - arrivals[i-1].Received); gap > s.LongestGap {
			s.LongestGap = gap
			s.GapStart = time.Unix(0, arrivals[i-1].Received)
			s.GapEnd = time.Unix(0, arrivals[i].Received)
		}
	}
	last := time.Unix(0, arrivals[len(arrivals)-1].Received)
	if tail := sent.End.Sub(last); tail > s.LongestGap {
		s.LongestGap, s.GapStart, s.GapEnd = tail, last, time.Time{}
	}
}

// losses finds the runs of sequence numbers that never arrived.
func (s *Stats) losses(sent Sent, firstArrival []int64) {
	run := 0
	for seq := 0; seq <= len(firstArrival); seq++ {
		if seq < len(firstArrival) && firstArrival[seq] == 0 {
			if run == 0 {
				s.LossRuns++
			}
			if s.FirstLost < 0 {
				s.FirstLost = seq
			}
			s.LastLost = seq
			run++
			continue
		}
		if run > s.LongestLossRun {
			s.LongestLossRun, s.LongestLossRunTime = run, sent.span(seq-run, seq)
		}
		run = 0
	}
	s.Recovered = s.LastLost < len(firstArrival)-1
	if s.LastLost < 0 {
		return
	}
	s.Outage = sent.span(s.FirstLost-1, s.LastLost+1)
	if s.Recovered {
		s.RecoveredAt = time.Unix(0, firstArrival[s.LastLost+1])
	}
}

// span is the time from sending packet from (the start of sending if it
// is -1) to sending packet to (the end of sending if to was never sent);
// zero without Sent.At.
func (s Sent) span(from, to int) time.Duration {
	if from >= len(s.At) {
		return 0
	}
	start, end := s.Start.UnixNano(), s.End.UnixNano()
	if from >= 0 {
		start = s.At[from]
	}
	if to < len(s.At) {
		end = s.At[to]
	}
	return time.Duration(end - start)
}

// OneWay returns the one-way latencies of the arrivals, shortest first.
func OneWay(arrivals []Arrival) []time.Duration {
	d := make([]time.Duration, len(arrivals))
	for i, a := range arrivals {
		d[i] = a.OneWay()
	}
	slices.Sort(d)
	return d
}
