// Package bench is the home of mip6mesh's benchmark harness, run by
// cmd/mip6bench (sudo ./bench.sh): each suite builds its topology in network
// namespaces, drives the real nse-homeagent binary and returns a result that
// package report stores as JSON and renders into docs/performance.md.
//
//   - report: the shared result types, the machine description, JSON, the
//     markdown document, the project's goals and the plots.
//   - registration: Binding Update → Binding Acknowledgement latency,
//     sustained registrations per second, and the Home Agent's CPU and
//     memory per live binding, from a generator that simulates many mobile
//     nodes from one process.
//   - datapath, handover: tunnel throughput and latency, handover outage.
package bench
