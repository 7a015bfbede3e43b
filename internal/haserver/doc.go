// Package haserver runs a Home Agent: it reads Mobility Header packets from
// a Conn, hands Binding Updates to the homeagent state machine, sends the
// Binding Acknowledgements, Binding Errors and ICMPv6 errors that result,
// and serves the binding cache, Prometheus metrics and health over HTTP.
package haserver
