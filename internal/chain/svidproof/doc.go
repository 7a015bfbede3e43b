// Package svidproof is the mobile node's client chain element that proves
// its identity to the Home Agent: on every Request (first, refresh, heal)
// it puts the client's current X.509-SVID certificate chain into the
// connection's ExtraContext under identity.KeySVIDProof, so that the Home
// Agent can check that the token of the client's path segment is signed by
// the key of an SVID whose SPIFFE ID is the token's subject
// (identity.Verify). Only certificates travel, never the key.
package svidproof
