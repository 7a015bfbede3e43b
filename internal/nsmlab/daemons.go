package nsmlab

import (
	"context"
	"errors"
	"fmt"

	"github.com/mip6mesh/mip6mesh/internal/lab"
)

// HomeAgentWorkload names Home Agent i's workload, and so its SPIFFE
// identity and its log prefix: ha-<i>.
func HomeAgentWorkload(i int) string { return EndpointName(i) }

// MobileNodeWorkload names mobile node i's workload: mn-<i>.
func MobileNodeWorkload(i int) string { return ClientName(i) }

// StartHomeAgent starts nse-homeagent i (1-based) in NSM mode in its
// namespace: the seg6 data plane with proxy ND on the home link, vWires
// from VWirePrefix(i), registered with the endpoint domain's nsmgr. It
// returns once the daemon's HTTP endpoints answer. env (NSM_KEY=value)
// overrides or adds to the defaults.
func (l *Lab) StartHomeAgent(ctx context.Context, i int, env ...string) (*lab.Process, error) {
	if i < 1 || i > len(l.HA) {
		return nil, fmt.Errorf("no Home Agent %d in this lab", i)
	}
	spiffe, err := l.Identities.WorkloadEndpoint(ctx, HomeAgentWorkload(i))
	if err != nil {
		return nil, err
	}
	defaults := []string{
		"NSM_MODE=nsm",
		"SPIFFE_ENDPOINT_SOCKET=" + spiffe,
		"NSM_NAME=" + l.endpointName(i),
		"NSM_SERVICE_NAMES=" + l.Service(),
		"NSM_CONNECT_TO=" + l.endpointManager(),
		fmt.Sprintf("NSM_REGISTER_SERVICE=%t", l.Interdomain == nil),
		"NSM_CIDR_PREFIX=" + VWirePrefix(i).String(),
		"NSM_HOME_PREFIX=" + HomePrefix.String(),
		"NSM_HOME_AGENT_ADDRESS=" + HAAddr(i).String(),
		"NSM_HOME_LINK=" + HAHomeLink,
		"NSM_INSTANCE=" + HomeAgentWorkload(i),
		"NSM_LISTEN_ON=" + HAListen,
	}
	return l.Start(ctx, HomeAgentWorkload(i), l.HA[i-1], lab.HomeAgentBinary, defaults, env)
}

// StartMobileNode starts nsc-mobile i (1-based) in NSM mode in its
// namespace, requesting kernel://<Service>/nsm-1 from the client domain's
// nsmgr. It returns once the daemon's HTTP endpoints answer, which is
// before it is registered: use WaitRegistered. env overrides or adds.
func (l *Lab) StartMobileNode(ctx context.Context, i int, env ...string) (*lab.Process, error) {
	if i < 1 || i > len(l.MN) {
		return nil, fmt.Errorf("no mobile node %d in this lab", i)
	}
	spiffe, err := l.Identities.WorkloadEndpoint(ctx, MobileNodeWorkload(i))
	if err != nil {
		return nil, err
	}
	defaults := []string{
		"NSM_MODE=nsm",
		"SPIFFE_ENDPOINT_SOCKET=" + spiffe,
		"NSM_NAME=" + ClientName(i),
		"NSM_CONNECT_TO=" + l.clientManager(),
		"NSM_NETWORK_SERVICES=kernel://" + l.Service() + "/" + VWire,
		"NSM_INSTANCE=" + MobileNodeWorkload(i),
		"NSM_LISTEN_ON=" + MNListen,
	}
	p, err := l.Start(ctx, MobileNodeWorkload(i), l.MN[i-1], lab.MobileNodeBinary, defaults, env)
	if err == nil {
		l.mobiles = append(l.mobiles, p)
	}
	return p, err
}

// stopIfRunning stops p unless it has exited already (then the Runner
// reports how).
func stopIfRunning(p *lab.Process) error {
	select {
	case <-p.Done():
		return nil
	default:
		return p.Stop()
	}
}

func (l *Lab) clientManager() string {
	if l.Interdomain != nil {
		return l.Interdomain.Client.NSMgrURL.String()
	}
	return l.Domain.NSMgrURL.String()
}

func (l *Lab) endpointManager() string {
	if l.Interdomain != nil {
		return l.Interdomain.Endpoint.NSMgrURL.String()
	}
	return l.Domain.NSMgrURL.String()
}

// DeleteHomeAgentPod does to Home Agent i what deleting its pod does in
// Kubernetes: the daemon is stopped (it unregisters and cleans up), then
// its network namespace is deleted, and with it the HA's ends of its
// vWires and of its home-link port. The mobile nodes' NSM clients see
// their vWire go down and heal onto another Home Agent instance.
func (l *Lab) DeleteHomeAgentPod(p *lab.Process, i int) error {
	stopErr := p.Stop()
	return errors.Join(stopErr, l.HA[i-1].Delete())
}
