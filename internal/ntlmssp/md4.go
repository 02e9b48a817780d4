package ntlmssp

import (
	"encoding/binary"
	"math/bits"
)

// md4Sum is RFC 1320 MD4. NTLM's password hash (NTOWFv1) is MD4 of the
// UTF-16LE password; the standard library has no MD4 and go.mod carries no
// x/crypto, so the few lines live here.
func md4Sum(msg []byte) [16]byte {
	s := [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}

	n := len(msg)
	padded := make([]byte, 0, n+72)
	padded = append(padded, msg...)
	padded = append(padded, 0x80)
	for len(padded)%64 != 56 {
		padded = append(padded, 0)
	}
	padded = binary.LittleEndian.AppendUint64(padded, uint64(n)<<3)

	var x [16]uint32
	for block := padded; len(block) >= 64; block = block[64:] {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(block[4*i:])
		}
		a, b, c, d := s[0], s[1], s[2], s[3]

		r1 := [4]int{3, 7, 11, 19}
		for i := range 16 {
			f := b&c | ^b&d
			a, b, c, d = d, bits.RotateLeft32(a+f+x[i], r1[i%4]), b, c
		}
		r2 := [4]int{3, 5, 9, 13}
		for i := range 16 {
			k := (i%4)*4 + i/4
			g := b&c | b&d | c&d
			a, b, c, d = d, bits.RotateLeft32(a+g+x[k]+0x5a827999, r2[i%4]), b, c
		}
		r3 := [4]int{3, 9, 11, 15}
		order3 := [16]int{0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15}
		for i := range 16 {
			h := b ^ c ^ d
			a, b, c, d = d, bits.RotateLeft32(a+h+x[order3[i]]+0x6ed9eba1, r3[i%4]), b, c
		}

		s[0] += a
		s[1] += b
		s[2] += c
		s[3] += d
	}

	var out [16]byte
	for i, v := range s {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	return out
}
