//go:build nsmdeps

// Package nsmdeps pins the NSM modules while issue 4 is being built; it is removed when the code imports them.
package nsmdeps

import (
	_ "github.com/edwarnicke/grpcfd"
	_ "github.com/golang-jwt/jwt/v4"
	_ "github.com/networkservicemesh/api/pkg/api/networkservice"
	_ "github.com/networkservicemesh/api/pkg/api/registry"
	_ "github.com/networkservicemesh/sdk-kernel/pkg/kernel/networkservice/connectioncontextkernel"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/chains/client"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/chains/endpoint"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/chains/nsmgr"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/chains/nsmgrproxy"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/common/authorize"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/common/heal"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/kernel"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/recvfd"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/common/mechanisms/sendfd"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/common/retry"
	_ "github.com/networkservicemesh/sdk/pkg/networkservice/ipam/point2pointipam"
	_ "github.com/networkservicemesh/sdk/pkg/registry/chains/client"
	_ "github.com/networkservicemesh/sdk/pkg/registry/chains/memory"
	_ "github.com/networkservicemesh/sdk/pkg/registry/chains/proxydns"
	_ "github.com/networkservicemesh/sdk/pkg/tools/nsurl"
	_ "github.com/networkservicemesh/sdk/pkg/tools/sandbox"
	_ "github.com/networkservicemesh/sdk/pkg/tools/spiffejwt"
	_ "github.com/networkservicemesh/sdk/pkg/tools/spire"
	_ "github.com/networkservicemesh/sdk/pkg/tools/grpcutils"
	_ "github.com/networkservicemesh/sdk/pkg/tools/dnsutils"
	_ "github.com/spiffe/go-spiffe/v2/workloadapi"
	_ "github.com/spiffe/go-spiffe/v2/svid/x509svid"
	_ "github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	_ "google.golang.org/grpc"
)
