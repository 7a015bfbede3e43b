package mh

import "encoding/binary"

// The return routability messages (RFC 6275 §5.2.5, §6.1.3-§6.1.6). A Home
// Agent never answers them, but it must decode them to log and count them.

// Cookie is a 64-bit init cookie or keygen token.
type Cookie [8]byte

// HomeTestInit is a Home Test Init (MH Type 1, RFC 6275 §6.1.3).
type HomeTestInit struct {
	Reserved uint16
	Cookie   Cookie // Home Init Cookie
	Options  Options
}

// Type implements Message.
func (*HomeTestInit) Type() Type { return TypeHomeTestInit }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *HomeTestInit) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *HomeTestInit) appendBody(b []byte, mhStart int) ([]byte, error) {
	return appendTestInit(b, mhStart, m.Reserved, m.Cookie, m.Options)
}

func (m *HomeTestInit) decodeBody(mh []byte) (err error) {
	m.Reserved, m.Cookie, m.Options, err = decodeTestInit(mh, m.Options)
	return err
}

// CareOfTestInit is a Care-of Test Init (MH Type 2, RFC 6275 §6.1.4).
type CareOfTestInit struct {
	Reserved uint16
	Cookie   Cookie // Care-of Init Cookie
	Options  Options
}

// Type implements Message.
func (*CareOfTestInit) Type() Type { return TypeCareOfTestInit }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *CareOfTestInit) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *CareOfTestInit) appendBody(b []byte, mhStart int) ([]byte, error) {
	return appendTestInit(b, mhStart, m.Reserved, m.Cookie, m.Options)
}

func (m *CareOfTestInit) decodeBody(mh []byte) (err error) {
	m.Reserved, m.Cookie, m.Options, err = decodeTestInit(mh, m.Options)
	return err
}

func appendTestInit(b []byte, mhStart int, reserved uint16, c Cookie, o Options) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, reserved)
	return appendOptions(append(b, c[:]...), mhStart, o)
}

func decodeTestInit(mh []byte, o Options) (uint16, Cookie, Options, error) {
	o, err := o.decode(mh, 16)
	return binary.BigEndian.Uint16(mh[6:]), Cookie(mh[8:16]), o, err
}

// HomeTest is a Home Test (MH Type 3, RFC 6275 §6.1.5).
type HomeTest struct {
	NonceIndex  uint16 // Home Nonce Index
	Cookie      Cookie // Home Init Cookie
	KeygenToken Cookie // Home Keygen Token
	Options     Options
}

// Type implements Message.
func (*HomeTest) Type() Type { return TypeHomeTest }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *HomeTest) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *HomeTest) appendBody(b []byte, mhStart int) ([]byte, error) {
	return appendTest(b, mhStart, m.NonceIndex, m.Cookie, m.KeygenToken, m.Options)
}

func (m *HomeTest) decodeBody(mh []byte) (err error) {
	m.NonceIndex, m.Cookie, m.KeygenToken, m.Options, err = decodeTest(mh, m.Options)
	return err
}

// CareOfTest is a Care-of Test (MH Type 4, RFC 6275 §6.1.6).
type CareOfTest struct {
	NonceIndex  uint16 // Care-of Nonce Index
	Cookie      Cookie // Care-of Init Cookie
	KeygenToken Cookie // Care-of Keygen Token
	Options     Options
}

// Type implements Message.
func (*CareOfTest) Type() Type { return TypeCareOfTest }

// Unmarshal decodes the Mobility Header in b into m, reusing m's storage.
func (m *CareOfTest) Unmarshal(b []byte) error { return decodeAs(b, m) }

func (m *CareOfTest) appendBody(b []byte, mhStart int) ([]byte, error) {
	return appendTest(b, mhStart, m.NonceIndex, m.Cookie, m.KeygenToken, m.Options)
}

func (m *CareOfTest) decodeBody(mh []byte) (err error) {
	m.NonceIndex, m.Cookie, m.KeygenToken, m.Options, err = decodeTest(mh, m.Options)
	return err
}

func appendTest(b []byte, mhStart int, index uint16, c, token Cookie, o Options) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, index)
	b = append(append(b, c[:]...), token[:]...)
	return appendOptions(b, mhStart, o)
}

func decodeTest(mh []byte, o Options) (uint16, Cookie, Cookie, Options, error) {
	o, err := o.decode(mh, 24)
	return binary.BigEndian.Uint16(mh[6:]), Cookie(mh[8:16]), Cookie(mh[16:24]), o, err
}
