package vwire

import (
	"context"

	"github.com/networkservicemesh/sdk/pkg/networkservice/utils/metadata"
)

type key struct{}

// state is what the element remembers about one connection.
type state struct {
	// client is the client's end as the last successful Request saw it.
	client clientEnd
	// downstreamIfName is the interface name the next hop chose for its end;
	// a refresh passes it on so the endpoint keeps its interface.
	downstreamIfName string
	// wire is the vWire this forwarder owns, nil when a later hop owns it.
	wire *wire
}

func store(ctx context.Context, s *state) {
	metadata.Map(ctx, false).Store(key{}, s)
}

func load(ctx context.Context) (*state, bool) {
	v, ok := metadata.Map(ctx, false).Load(key{})
	if !ok {
		return nil, false
	}
	s, ok := v.(*state)
	return s, ok
}

func loadAndDelete(ctx context.Context) (*state, bool) {
	v, ok := metadata.Map(ctx, false).LoadAndDelete(key{})
	if !ok {
		return nil, false
	}
	s, ok := v.(*state)
	return s, ok
}
