// Package homeagent is the Home Agent's state machine: the binding cache
// and the home-registration processing of RFC 6275 §10.3.1 and §10.3.2.
//
// It decides; it does not do I/O. A Binding Update comes in already decoded
// (package mh), the answer goes out as a Binding Acknowledgement value, and
// forwarding is delegated to a DataPlane. Updates for one home address are
// serialised; different home addresses are processed in parallel. Time comes
// from a clock.Clock so that tests drive expiry without sleeping.
package homeagent
