package seg6

import (
	"errors"
	"fmt"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/mip6mesh/mip6mesh/internal/dataplane/nsexec"
)

// session holds the kernel connections of one started instance, all bound
// to the instance's network namespace.
type session struct {
	ns      netns.NsHandle
	nl      *netlink.Handle
	nft     *nftables.Conn
	loIndex int
}

func openSession(ns netns.NsHandle) (*session, error) {
	s := &session{ns: ns}
	err := nsexec.Run(ns, func() error {
		var err error
		s.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink: %w", err)
	}
	if s.nft, err = openNFT(ns); err != nil {
		s.nl.Close()
		return nil, err
	}
	lo, err := s.nl.LinkByName("lo")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("find lo: %w", err), s.close())
	}
	s.loIndex = lo.Attrs().Index
	return s, nil
}

func openNFT(ns netns.NsHandle) (*nftables.Conn, error) {
	opts := []nftables.ConnOption{nftables.AsLasting()}
	if ns.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(ns)))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("open nftables: %w", err)
	}
	return conn, nil
}

func (s *session) close() error {
	s.nl.Close()
	if err := s.nft.CloseLasting(); err != nil {
		return fmt.Errorf("close nftables: %w", err)
	}
	return nil
}
