package mh

import (
	"errors"
	"fmt"
)

// Action is what a receiver must do with a packet that failed a check
// (RFC 6275 §9.2).
type Action uint8

// Receiver actions.
const (
	// ActionDrop: discard the packet silently.
	ActionDrop Action = iota
	// ActionParameterProblem: discard it and answer an ICMPv6 Parameter
	// Problem with Error.Code and Error.Pointer.
	ActionParameterProblem
	// ActionBindingError: discard it and answer a Binding Error with
	// Error.Status.
	ActionBindingError
)

func (a Action) String() string {
	switch a {
	case ActionDrop:
		return "drop"
	case ActionParameterProblem:
		return "icmpv6 parameter problem"
	case ActionBindingError:
		return "binding error"
	default:
		return fmt.Sprintf("action %d", uint8(a))
	}
}

// Causes of decode failures, usable with errors.Is on an *Error.
var (
	ErrTruncated        = errors.New("truncated")
	ErrChecksum         = errors.New("bad checksum")
	ErrPayloadProto     = errors.New("payload proto is not 59")
	ErrHeaderLen        = errors.New("header len too small for the message type")
	ErrHeaderLenOverrun = errors.New("header len runs past the end of the packet")
	ErrUnknownType      = errors.New("unrecognized mh type")
	ErrWrongType        = errors.New("mh type does not match the message")
	ErrOptionOverrun    = errors.New("option runs past the end of the header")
	ErrOptionLength     = errors.New("option has the wrong length")
	ErrOptionAlignment  = errors.New("option is misaligned")
	ErrOptionValue      = errors.New("option has an impossible value")
	ErrNotIPv6          = errors.New("not an ipv6 packet")
	ErrNoMobilityHeader = errors.New("no mobility header")
	ErrFragment         = errors.New("fragmented packet")
	ErrRoutingHeader    = errors.New("unsupported routing header")
	ErrDestOption       = errors.New("unrecognized destination option")
	ErrHomeAddress      = errors.New("bad home address option")
)

// ICMPv6 Parameter Problem codes (RFC 4443 §3.4).
const (
	CodeErroneousHeaderField = 0
	CodeUnrecognizedNextHdr  = 1
	CodeUnrecognizedOption   = 2
)

// Error is a decode failure with the action RFC 6275 §9.2 prescribes.
type Error struct {
	Cause  error  // one of the Err* values above
	Action Action // what the receiver must do
	// Pointer is, for ActionParameterProblem, the offset of the offending
	// octet: from the start of the Mobility Header when the Mobility Header
	// alone was decoded, from the start of the IPv6 header when a Packet was.
	Pointer int
	Code    uint8       // ICMPv6 Parameter Problem code
	Status  ErrorStatus // Binding Error status, for ActionBindingError
	Detail  string      // the offending value, for the log
}

func (e *Error) Error() string {
	msg := "mobility header: " + e.Cause.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	switch e.Action {
	case ActionParameterProblem:
		return fmt.Sprintf("%s (parameter problem code %d, pointer %d)", msg, e.Code, e.Pointer)
	case ActionBindingError:
		return fmt.Sprintf("%s (binding error status %d)", msg, uint8(e.Status))
	default:
		return msg
	}
}

// Unwrap returns the cause so errors.Is(err, ErrChecksum) works.
func (e *Error) Unwrap() error { return e.Cause }

// ActionOf returns the action for err, ActionDrop for anything that is not
// an *Error.
func ActionOf(err error) Action {
	var e *Error
	if errors.As(err, &e) {
		return e.Action
	}
	return ActionDrop
}

func dropErr(cause error, format string, args ...any) *Error {
	return &Error{Cause: cause, Action: ActionDrop, Detail: fmt.Sprintf(format, args...)}
}

func paramProblem(cause error, code uint8, pointer int, format string, args ...any) *Error {
	return &Error{Cause: cause, Action: ActionParameterProblem, Code: code, Pointer: pointer,
		Detail: fmt.Sprintf(format, args...)}
}

// shift moves a Parameter Problem pointer by off octets, for errors found
// inside a header that starts off octets into the packet.
func shift(err error, off int) error {
	var e *Error
	if errors.As(err, &e) && e.Action == ActionParameterProblem {
		e.Pointer += off
	}
	return err
}

// ErrInvalidMessage is the cause of every error building a message or a
// packet from values that cannot be sent; the error text names the value.
var ErrInvalidMessage = errors.New("invalid message")
