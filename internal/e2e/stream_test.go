package e2e_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// stream is a TCP connection on which the sender writes a sequence number
// every interval and the receiver records when each arrives, to measure
// how long a handover interrupts it.
type stream struct {
	mu       sync.Mutex
	arrivals []time.Time
	err      error
	done     chan struct{}
}

// startStream accepts one connection on ln and reads from it, while send
// writes to a connection the caller dialled; both stop when ctx is done.
func startStream(ctx context.Context, ln net.Listener, send net.Conn, every time.Duration) (*stream, error) {
	recv, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	s := &stream{done: make(chan struct{})}
	go s.receive(recv)
	go s.send(ctx, send, every)
	return s, nil
}

func (s *stream) send(ctx context.Context, c net.Conn, every time.Duration) {
	defer c.Close()
	t := time.NewTicker(every)
	defer t.Stop()
	var buf [8]byte
	for seq := uint64(0); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		binary.BigEndian.PutUint64(buf[:], seq)
		if _, err := c.Write(buf[:]); err != nil {
			s.fail(fmt.Errorf("send: %w", err))
			return
		}
	}
}

func (s *stream) receive(c net.Conn) {
	defer close(s.done)
	defer c.Close()
	var buf [8]byte
	for want := uint64(0); ; want++ {
		if _, err := io.ReadFull(c, buf[:]); err != nil {
			if !errors.Is(err, io.EOF) {
				s.fail(fmt.Errorf("receive: %w", err))
			}
			return
		}
		if got := binary.BigEndian.Uint64(buf[:]); got != want {
			s.fail(fmt.Errorf("receive: sequence %d, want %d", got, want))
			return
		}
		s.mu.Lock()
		s.arrivals = append(s.arrivals, time.Now())
		s.mu.Unlock()
	}
}

func (s *stream) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// received returns how many messages have arrived.
func (s *stream) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrivals)
}

// result waits for the receiver to finish and returns the longest gap
// between arrivals after start, and any error either side saw.
func (s *stream) result(after time.Time) (n int, longest time.Duration, err error) {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i < len(s.arrivals); i++ {
		if s.arrivals[i].After(after) {
			longest = max(longest, s.arrivals[i].Sub(s.arrivals[i-1]))
		}
	}
	return len(s.arrivals), longest, s.err
}

func tcpAddr(a netip.Addr, port int) string { return netip.AddrPortFrom(a, uint16(port)).String() }
