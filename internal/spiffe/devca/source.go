package devca

import (
	"sync"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
)

// Source is an in-process x509svid.Source for one identity. It re-issues the
// SVID lazily, on the first call after half its lifetime has passed (SPIRE
// rotates at the same point), so it needs no goroutine and no Close.
type Source struct {
	ca *CA
	id spiffeid.ID

	mu      sync.Mutex
	svid    *x509svid.SVID
	renewAt time.Time
}

// Source returns an x509svid.Source for id, holding a freshly issued SVID.
func (ca *CA) Source(id spiffeid.ID) (*Source, error) {
	s := &Source{ca: ca, id: id}
	if _, _, err := s.current(); err != nil {
		return nil, err
	}
	return s, nil
}

// GetX509SVID implements x509svid.Source.
func (s *Source) GetX509SVID() (*x509svid.SVID, error) {
	svid, _, err := s.current()
	return svid, err
}

// current returns the SVID in force, re-issuing it when it is due, and the
// time it will next be due.
func (s *Source) current() (*x509svid.SVID, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.ca.cfg.clock.Now()
	if s.svid != nil && now.Before(s.renewAt) {
		return s.svid, s.renewAt, nil
	}
	svid, err := s.ca.Issue(s.id)
	if err != nil {
		return nil, time.Time{}, err
	}
	s.svid = svid
	s.renewAt = now.Add(svid.Certificates[0].NotAfter.Sub(now) / 2)
	return s.svid, s.renewAt, nil
}
