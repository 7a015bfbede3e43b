package devca

import "errors"

// ErrForeignID is returned when asked to issue or serve a SPIFFE ID outside
// the CA's trust domain.
var ErrForeignID = errors.New("SPIFFE ID outside the CA's trust domain")
