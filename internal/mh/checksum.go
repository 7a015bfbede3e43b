package mh

import (
	"encoding/binary"
	"net/netip"
)

// checksumOffset is where the Checksum field sits in the Mobility Header.
const checksumOffset = 4

// Checksum computes the Mobility Header checksum of mh (RFC 6275 §6.1.1):
// the Internet checksum over the RFC 8200 §8.1 pseudo-header with Next
// Header 135, followed by mh with its Checksum field taken as zero. src is
// the home address when the packet has a Home Address option, dst the final
// destination (the home address in a type 2 routing header).
func Checksum(mh []byte, src, dst netip.Addr) uint16 {
	sum := pseudoHeaderSum(src, dst, len(mh))
	sum = sumWords(sum, mh[:checksumOffset])
	if len(mh) > checksumOffset+2 {
		sum = sumWords(sum, mh[checksumOffset+2:])
	}
	return ^fold(sum)
}

// VerifyChecksum reports whether the Checksum field of mh is right for the
// pseudo-header addresses src and dst.
func VerifyChecksum(mh []byte, src, dst netip.Addr) bool {
	if len(mh) < checksumOffset+2 {
		return false
	}
	return fold(sumWords(pseudoHeaderSum(src, dst, len(mh)), mh)) == 0xffff
}

func pseudoHeaderSum(src, dst netip.Addr, length int) uint64 {
	s, d := src.As16(), dst.As16()
	return pseudoHeaderSumRaw(s[:], d[:], length)
}

// pseudoHeaderSumRaw is pseudoHeaderSum over addresses as 16 wire octets.
func pseudoHeaderSumRaw(src, dst []byte, length int) uint64 {
	sum := sumWords(sumWords(0, src[:16]), dst[:16])
	return sum + uint64(uint32(length)>>16) + uint64(length&0xffff) + ProtoMH
}

// verifyChecksumRaw is VerifyChecksum with the addresses as wire octets.
func verifyChecksumRaw(mh, src, dst []byte) bool {
	return fold(sumWords(pseudoHeaderSumRaw(src, dst, len(mh)), mh)) == 0xffff
}

// sumWords adds b to sum as big-endian 16-bit words, padding an odd tail
// with a zero octet. It adds 32-bit words where it can: since 2^16 is 1
// modulo 2^16-1, folding their sum gives the same one's complement sum.
func sumWords(sum uint64, b []byte) uint64 {
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		sum += v>>32 + v&0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		sum += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		sum += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}

func fold(sum uint64) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// putChecksum writes the checksum of mh into its Checksum field.
func putChecksum(mh []byte, src, dst netip.Addr) {
	binary.BigEndian.PutUint16(mh[checksumOffset:], Checksum(mh, src, dst))
}
