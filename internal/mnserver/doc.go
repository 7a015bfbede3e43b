// Package mnserver runs a mobile node: it feeds the mobilenode state
// machine with Binding Acknowledgements read from a Conn, sends its Binding
// Updates, moves the data plane when the point of attachment changes, and
// serves the registration status over HTTP.
//
// A move is make before break: the previous care-of address keeps
// accepting tunnelled packets until the Home Agent has bound the new one,
// the previous link is gone, or Config.ReleaseAfter has passed; then the
// Node releases it from the data plane.
package mnserver
