// Package handover measures what a handover costs a flow of 10,000
// packets/s, in the lab (internal/lab) with the real daemons. A UDP flow
// carrying sequence numbers and send times (see datapath/udpflow) runs
// from the correspondent node to the home address, received in the mobile
// node's namespace by a socket bound to the home address, and another one
// the other way, from the home address to the correspondent node; midway
// an access link changes:
//
//   - break-before-make: access link 1 goes down under the mobile node,
//     which re-registers from CoA2 on link 2;
//   - make-before-break: with the mobile node on link 2, link 1 comes back
//     up (the lab puts its address and route back) and the mobile node
//     moves to it, its preferred link, while link 2 stays up.
//
// For each flow it reports the packets lost, duplicated and reordered and
// the outage three ways: from sending the last packet that got through
// before the loss to sending the first that got through after it, the
// longest gap between arrivals, and the time from the link event to the
// first arrival after the loss; and how many packets the sender managed
// to send while the handover ran (on a busy machine a held-back sender
// probes the handover less and loses less). For the mobile node it
// reports, from its log and GET /status, when it attached to the new
// care-of address, released the old one, and received the Binding
// Acknowledgement. The runs alternate between the two variants in one
// lab; each variant is summarised by its minimum, median and maximum.
package handover
