package bpf

import (
	"context"
	"fmt"

	"github.com/mip6mesh/mip6mesh/internal/dataplane"
)

// phase is where an instance is in its life: new -> started -> closed.
// A failed Start leaves it new, so Start may be retried.
type phase int

const (
	phaseNew phase = iota
	phaseStarted
	phaseClosed
)

func (p phase) canStart(ctx context.Context) error {
	switch p {
	case phaseStarted:
		return fmt.Errorf("start: already started")
	case phaseClosed:
		return fmt.Errorf("start: %w", dataplane.ErrClosed)
	}
	return ctx.Err()
}

func (p phase) canProgram(ctx context.Context) error {
	switch p {
	case phaseNew:
		return dataplane.ErrNotStarted
	case phaseClosed:
		return dataplane.ErrClosed
	}
	return ctx.Err()
}
