// Package bootstrap carries what a mobile node needs to register with its
// Home Agent — its home address, the Home Agent's address and the home
// prefix — from the Home Agent endpoint to the client in the ExtraContext
// of the NSM connection.
package bootstrap
