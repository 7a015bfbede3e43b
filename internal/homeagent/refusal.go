package homeagent

import (
	"errors"
	"fmt"

	"github.com/mip6mesh/mip6mesh/internal/mh"
)

// RefusalError is a BU rejected with a Binding Acknowledgement status.
type RefusalError struct {
	Status mh.Status
	Reason string
}

func (r *RefusalError) Error() string {
	return fmt.Sprintf("binding update refused: %v: %s", r.Status, r.Reason)
}

// Refuse returns a *RefusalError; authorizers use it.
func Refuse(status mh.Status, format string, args ...any) error {
	return &RefusalError{Status: status, Reason: fmt.Sprintf(format, args...)}
}

// statusOf maps an error to the BA status to answer: a *RefusalError's own
// status, 128 (reason unspecified) for anything else.
func statusOf(err error) mh.Status {
	var r *RefusalError
	if errors.As(err, &r) {
		return r.Status
	}
	return mh.StatusUnspecified
}
