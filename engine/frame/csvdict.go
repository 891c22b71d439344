package frame

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
)

// dictSeed hashes field text for the string dictionaries. The hash only
// places entries in a table: codes are given in order of first
// appearance, so they do not depend on it.
var dictSeed = maphash.MakeSeed()

// dictKey seeds fieldHash, drawn at start-up so that no input can be made
// to collide in every run.
var dictKey = maphash.Comparable(maphash.MakeSeed(), 0) | 1

// fieldHash hashes a field's text for dictIndex. Fields of up to 16 bytes,
// most of a file's strings, are mixed from two overlapping 8-byte (or
// 4-byte) loads and one 64×64→128-bit multiply, inline; longer ones go to
// maphash.
func fieldHash(t []byte) uint32 {
	n := len(t)
	var a, b uint64
	switch {
	case n > 16:
		return uint32(maphash.Bytes(dictSeed, t))
	case n >= 8:
		a, b = binary.LittleEndian.Uint64(t), binary.LittleEndian.Uint64(t[n-8:])
	case n >= 4:
		a, b = uint64(binary.LittleEndian.Uint32(t)), uint64(binary.LittleEndian.Uint32(t[n-4:]))
	case n > 0:
		a = uint64(t[0])<<16 | uint64(t[n>>1])<<8 | uint64(t[n-1])
	}
	hi, lo := bits.Mul64(a^dictKey, b^uint64(n)^0x9e3779b97f4a7c15)
	h := hi ^ lo
	return uint32(h ^ h>>32)
}

// dictIndex finds a block column's dictionary code for a field's text
// without converting it to a string: an open-addressed table of 32-bit
// hashes and codes into the column's dictionary, at most half full.
// Most string columns of a file have few distinct values; for those a
// lookup is one hash and one comparison, where Go's map of strings
// compares up to eight keys of a small map or hashes and then compares.
type dictIndex struct {
	slots []uint64 // hash<<32 | code+1; 0 is an empty slot
	n     int
}

// find returns t's code in dict, or -1 and the slot to insert it at.
func (x *dictIndex) find(t []byte, dict []string) (int32, int, uint32) {
	if x.slots == nil {
		x.slots = make([]uint64, 16)
	}
	h := fieldHash(t)
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return -1, i, h
		}
		if uint32(s>>32) == h {
			k := int32(uint32(s)) - 1
			if dict[k] == string(t) {
				return k, i, h
			}
		}
	}
}

// insert records code k for hash h at slot i (from find), growing the
// table when it is half full.
func (x *dictIndex) insert(i int, h uint32, k int32) {
	x.slots[i] = uint64(h)<<32 | uint64(uint32(k+1))
	x.n++
	if 2*x.n <= len(x.slots) {
		return
	}
	old := x.slots
	x.slots = make([]uint64, 2*len(old))
	mask := len(x.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		j := int(uint32(s>>32)) & mask
		for x.slots[j] != 0 {
			j = (j + 1) & mask
		}
		x.slots[j] = s
	}
}
