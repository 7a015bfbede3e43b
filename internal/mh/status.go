package mh

import "fmt"

// Status is the Status field of a Binding Acknowledgement (RFC 6275 §6.1.8,
// RFC 3963 §4.2, RFC 5555). Values below 128 mean the BU was accepted.
type Status uint8

// Binding Acknowledgement status codes.
const (
	StatusAccepted                       Status = 0
	StatusAcceptedPrefixDiscovery        Status = 1
	StatusUnspecified                    Status = 128
	StatusAdministrativelyProhibited     Status = 129
	StatusInsufficientResources          Status = 130
	StatusHomeRegistrationNotSupported   Status = 131
	StatusNotHomeSubnet                  Status = 132
	StatusNotHomeAgentForThisMobileNode  Status = 133
	StatusDuplicateAddressDetectionFail  Status = 134
	StatusSequenceOutOfWindow            Status = 135
	StatusExpiredHomeNonceIndex          Status = 136
	StatusExpiredCareOfNonceIndex        Status = 137
	StatusExpiredNonces                  Status = 138
	StatusRegistrationTypeChange         Status = 139
	StatusMobileRouterOperationNotPermit Status = 140
	StatusInvalidPrefix                  Status = 141
	StatusNotAuthorizedForPrefix         Status = 142
	StatusForwardingSetupFailed          Status = 143
	StatusInvalidCareOfAddress           Status = 174
)

var statusMeanings = map[Status]string{
	StatusAccepted:                       "binding update accepted",
	StatusAcceptedPrefixDiscovery:        "accepted but prefix discovery necessary",
	StatusUnspecified:                    "reason unspecified",
	StatusAdministrativelyProhibited:     "administratively prohibited",
	StatusInsufficientResources:          "insufficient resources",
	StatusHomeRegistrationNotSupported:   "home registration not supported",
	StatusNotHomeSubnet:                  "not home subnet",
	StatusNotHomeAgentForThisMobileNode:  "not home agent for this mobile node",
	StatusDuplicateAddressDetectionFail:  "duplicate address detection failed",
	StatusSequenceOutOfWindow:            "sequence number out of window",
	StatusExpiredHomeNonceIndex:          "expired home nonce index",
	StatusExpiredCareOfNonceIndex:        "expired care-of nonce index",
	StatusExpiredNonces:                  "expired nonces",
	StatusRegistrationTypeChange:         "registration type change disallowed",
	StatusMobileRouterOperationNotPermit: "mobile router operation not permitted",
	StatusInvalidPrefix:                  "invalid prefix",
	StatusNotAuthorizedForPrefix:         "not authorized for prefix",
	StatusForwardingSetupFailed:          "forwarding setup failed",
	StatusInvalidCareOfAddress:           "invalid care-of address",
}

// Accepted reports whether s means the binding update was accepted.
func (s Status) Accepted() bool { return s < 128 }

func (s Status) String() string {
	if m, ok := statusMeanings[s]; ok {
		return fmt.Sprintf("%d (%s)", uint8(s), m)
	}
	return fmt.Sprintf("%d (unassigned)", uint8(s))
}

// ErrorStatus is the Status field of a Binding Error (RFC 6275 §6.1.9).
type ErrorStatus uint8

// Binding Error status codes.
const (
	ErrorStatusUnknownBinding ErrorStatus = 1 // a Home Address option with no binding
	ErrorStatusUnknownType    ErrorStatus = 2 // an unrecognised MH Type
)

func (s ErrorStatus) String() string {
	switch s {
	case ErrorStatusUnknownBinding:
		return "1 (unknown binding for home address destination option)"
	case ErrorStatusUnknownType:
		return "2 (unrecognized MH type value)"
	default:
		return fmt.Sprintf("%d (unassigned)", uint8(s))
	}
}
