package identity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// File is a policy read from a JSON object that maps SPIFFE IDs to home
// addresses, such as
//
//	{"spiffe://example.org/ns/demo/sa/mobile": "2001:db8:1::100"}
//
// Identities it does not list are refused.
type File struct {
	path  string
	homes map[spiffeid.ID]netip.Addr
}

// LoadPolicyFile reads the policy at path. Every address must be inside
// home, unique, neither a reserved anycast address nor one of reserved
// (the home agent's own addresses); every key must be a SPIFFE ID, listed
// once. The error names the first bad entry.
func LoadPolicyFile(path string, home netip.Prefix, reserved ...netip.Addr) (*File, error) {
	if err := checkHomePrefix(home); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the policy file
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	entries, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPolicy, path, err)
	}
	f := &File{path: path, homes: make(map[spiffeid.ID]netip.Addr, len(entries))}
	owners := make(map[netip.Addr]spiffeid.ID, len(entries))
	for _, e := range entries {
		id, hoa, err := parseEntry(e, home, reserved)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPolicy, path, err)
		}
		if other, dup := owners[hoa]; dup {
			return nil, fmt.Errorf("%w: %s: %q: address %s is already the home address of %s", ErrPolicy, path, e.key, hoa, other)
		}
		owners[hoa], f.homes[id] = id, hoa
	}
	return f, nil
}

// HomeAddress returns id's listed home address.
func (f *File) HomeAddress(id spiffeid.ID) (netip.Addr, error) {
	if hoa, ok := f.homes[id]; ok {
		return hoa, nil
	}
	return netip.Addr{}, fmt.Errorf("%w: %s is not listed in %s", ErrRefused, id, f.path)
}

// Len returns the number of identities listed.
func (f *File) Len() int { return len(f.homes) }

type entry struct{ key, value string }

// decodeObject decodes a JSON object of strings in document order,
// refusing a key given twice (encoding/json would keep the last silently).
func decodeObject(data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object of SPIFFE ID to home address")
	}
	var entries []entry
	seen := map[string]bool{}
	for dec.More() {
		var e entry
		if err := decodeMember(dec, &e); err != nil {
			return nil, err
		}
		if seen[e.key] {
			return nil, fmt.Errorf("%q is listed twice", e.key)
		}
		seen[e.key] = true
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("after entry %d: %w", len(entries), err)
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON object")
	}
	return entries, nil
}

func decodeMember(dec *json.Decoder, e *entry) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	e.key, _ = t.(string) // object keys are always strings
	if err := dec.Decode(&e.value); err != nil {
		return fmt.Errorf("%q: the home address must be a string: %w", e.key, err)
	}
	return nil
}

func parseEntry(e entry, home netip.Prefix, reserved []netip.Addr) (spiffeid.ID, netip.Addr, error) {
	id, err := spiffeid.FromString(e.key)
	if err != nil {
		return spiffeid.ID{}, netip.Addr{}, fmt.Errorf("%q is not a SPIFFE ID: %w", e.key, err)
	}
	hoa, err := netip.ParseAddr(e.value)
	if err != nil {
		return spiffeid.ID{}, netip.Addr{}, fmt.Errorf("%q: home address %q: %w", e.key, e.value, err)
	}
	switch {
	case !hoa.Is6() || hoa.Is4In6() || hoa.Zone() != "" || !home.Contains(hoa):
		return spiffeid.ID{}, netip.Addr{}, fmt.Errorf("%q: home address %s is outside home prefix %s", e.key, hoa, home)
	case IsReserved(home, hoa):
		return spiffeid.ID{}, netip.Addr{}, fmt.Errorf("%q: home address %s is a reserved anycast address of %s", e.key, hoa, home)
	case slices.Contains(reserved, hoa):
		return spiffeid.ID{}, netip.Addr{}, fmt.Errorf("%q: home address %s is reserved (the home agent's)", e.key, hoa)
	}
	return id, hoa, nil
}
