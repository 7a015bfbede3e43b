// Package mobilenode is the mobile node's side of home registration (RFC 6275
// §11.7.1, §11.7.3, §11.8): a state machine that sends Binding Updates to the
// home agent, retransmits and rate-limits them, matches Binding
// Acknowledgements and refreshes the binding before it runs out.
//
// It does no I/O and starts no goroutines of its own: events come in through
// Registration.Move, HandleAck and Deregister, time comes from a clock.Clock,
// and the daemon builds and sends the packets through a Sender.
//
// Timer policy:
//   - A BU that gets no matching BA is retransmitted after 1.5 s when the home
//     agent holds no binding for us (InitialBindackTimeoutFirstReg, it may be
//     running DAD) and after 1 s otherwise, doubling up to 32 s, then every
//     32 s for as long as there is a care-of address (RFC 6275 §11.8 allows
//     it). Each retransmission carries a new sequence number. Reaching 32 s
//     sets Status.LastError to ErrNoAck; Status.Attempts counts the BUs.
//   - At most MaxUpdateRate (3) BUs leave in any second; a change that comes
//     sooner waits, and changes that wait coalesce to the latest care-of
//     address.
//   - An accepted binding is refreshed at 80% of the granted lifetime,
//     counted from when its BU was sent, or at the Binding Refresh Advice
//     interval, counted from the BA, whichever comes first.
//   - A rejection (status >= 128) leaves the registration failed and retries
//     after FailureBackoff (32 s). Moving meanwhile only records the new
//     care-of address, except after status 174 (invalid care-of address),
//     where a different care-of address is tried at once.
//   - Status 135 resynchronises the sequence number and sends at once; more
//     than three 135s in a row count as a rejection.
package mobilenode
