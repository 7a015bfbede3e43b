// Package registration measures the Home Agent's signalling: BU→BA latency
// with the data plane programmed, sustained registrations per second, and
// the daemon's CPU and memory per live binding, at growing numbers of live
// bindings. It runs the real nse-homeagent in one network namespace and a
// generator that simulates many mobile nodes from one process in another
// (whole packets out on a raw socket, BAs in through AF_PACKET).
//
// A refusal by the Home Agent, such as status 130 when its data plane runs
// out of kernel memory, ends the run with the limit recorded in
// Result.Stopped: a result, not a failure. Result implements report.Result.
package registration
