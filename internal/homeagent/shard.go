package homeagent

import (
	"sync"
	"time"

	"github.com/mip6mesh/mip6mesh/internal/clock"
)

// shard is one independently locked part of the binding cache: its
// bindings by home address, and their expiry times in a heap served by one
// timer. A refresh pushes a new expiry and leaves the old one to be skipped
// when it comes due (lazy deletion), so no timer exists per binding.
type shard struct {
	mu      sync.Mutex
	entries map[[16]byte]entry
	expiry  expiryHeap
	timer   clock.Timer
	timerAt int64  // when timer fires, Unix nanoseconds; 0 when unarmed
	fire    func() // what the timer runs: expires the shard's due bindings
}

type expiryItem struct {
	at  int64
	hoa [16]byte
}

// expiryHeap is a binary min-heap of expiry items by time. It is written
// out rather than built on container/heap, whose interface would box (and
// allocate) every item.
type expiryHeap []expiryItem

func (h *expiryHeap) push(item expiryItem) {
	*h = append(*h, item)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if q[parent].at <= q[i].at {
			break
		}
		q[parent], q[i] = q[i], q[parent]
		i = parent
	}
}

func (h *expiryHeap) pop() expiryItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].at < q[smallest].at {
			smallest = l
		}
		if r < len(q) && q[r].at < q[smallest].at {
			smallest = r
		}
		if smallest == i {
			break
		}
		q[i], q[smallest] = q[smallest], q[i]
		i = smallest
	}
	*h = q
	return top
}

// schedule records that hoa expires at at and arms the shard's timer if
// that is the earliest expiry; s must be locked.
func (s *shard) schedule(c clock.Clock, hoa [16]byte, at int64) {
	s.expiry.push(expiryItem{at: at, hoa: hoa})
	if s.timer == nil || at < s.timerAt {
		s.arm(c, at)
	}
}

// arm (re)sets the shard's timer to fire at at; s must be locked.
func (s *shard) arm(c clock.Clock, at int64) {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer, s.timerAt = c.AfterFunc(time.Duration(at-c.Now().UnixNano()), s.fire), at
}

// popDue removes and returns the expiry items due at now; s must be locked.
func (s *shard) popDue(now int64) []expiryItem {
	var due []expiryItem
	for len(s.expiry) > 0 && s.expiry[0].at <= now {
		due = append(due, s.expiry.pop())
	}
	return due
}

// stop disarms the timer and forgets every expiry; s must be locked.
func (s *shard) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer, s.timerAt, s.expiry = nil, 0, nil
}
