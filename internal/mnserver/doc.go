// Package mnserver runs a mobile node: it feeds the mobilenode state
// machine with Binding Acknowledgements read from a Conn, sends its Binding
// Updates, moves the data plane when the point of attachment changes, and
// serves the registration status over HTTP.
package mnserver
