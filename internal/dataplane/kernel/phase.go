package kernel

import (
	"context"
	"fmt"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

// Phase is where an instance is in its life: new -> started -> closed.
// A failed Start leaves it new, so Start may be retried.
type Phase int

// The phases of an instance; the zero value is PhaseNew.
const (
	PhaseNew Phase = iota
	PhaseStarted
	PhaseClosed
)

// CanStart fails unless an instance in phase p may start.
func (p Phase) CanStart(ctx context.Context) error {
	switch p {
	case PhaseStarted:
		return fmt.Errorf("start: already started")
	case PhaseClosed:
		return fmt.Errorf("start: %w", dataplane.ErrClosed)
	}
	return ctx.Err()
}

// CanProgram fails unless an instance in phase p may be programmed.
func (p Phase) CanProgram(ctx context.Context) error {
	switch p {
	case PhaseNew:
		return dataplane.ErrNotStarted
	case PhaseClosed:
		return dataplane.ErrClosed
	}
	return ctx.Err()
}
