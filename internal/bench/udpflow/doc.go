// Package udpflow measures what a network path does to a paced UDP flow
// between two network namespaces: every datagram carries a flow id, a
// sequence number and its send time, and the receiver records when each
// arrives. All namespaces of a host share its clocks, so the difference is
// the true one-way latency, and missing, repeated or late sequence numbers
// are loss, duplication and reordering.
//
// Send paces one flow, or several interleaved packet by packet so that
// they see the same conditions, on a locked OS thread with nanosleep
// (timer slack 1 µs), so 10,000 packets/s go out one by one rather than in
// bursts of a scheduler tick (a sender held back catches up in a burst);
// Receiver reads on a locked thread of its own, blocking in recvfrom or,
// for latency, busy-polling (Mode). Analyze turns what was sent and what
// arrived into Stats. Neither thread ever exits locked: a thread that
// exits fires the Pdeathsig of the children it forked, such as the lab's
// daemons.
//
// It is shared by internal/bench/datapath (one-way latency) and
// internal/bench/handover (outage at 10,000 packets/s).
package udpflow
