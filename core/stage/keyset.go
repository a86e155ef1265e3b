package stage

import "math/bits"

// keySet is Scan's deduplication index: the 64-bit hashes of the record
// keys met so far, in an open-addressing table with linear probing. A Go
// map of uint64 costs about 36 bytes an entry; this costs 8 bytes a slot
// at a load of at most 0.7, so 11.4 bytes a record when sized for the
// records it gets, up to twice that after growing.
type keySet struct {
	slots []uint64 // 0 is an empty slot
	n     int
}

const maxLoadPercent = 70

// newKeySet sizes the set for hint keys.
func newKeySet(hint int64) *keySet {
	return &keySet{slots: make([]uint64, max(16, hint*100/maxLoadPercent+1))}
}

// add inserts h and reports whether it was new.
func (s *keySet) add(h uint64) bool {
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	if (s.n+1)*100 > len(s.slots)*maxLoadPercent {
		s.grow()
	}
	if !s.insert(h) {
		return false
	}
	s.n++
	return true
}

func (s *keySet) insert(h uint64) bool {
	// Spread h (Fibonacci hashing, in case its high bits are poor), then
	// map it onto [0, len) by a multiplication instead of a modulo.
	hi, _ := bits.Mul64(h*0x9E3779B97F4A7C15, uint64(len(s.slots)))
	for i := int(hi); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			return true
		case h:
			return false
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	for _, h := range old {
		if h != 0 {
			s.insert(h)
		}
	}
}
