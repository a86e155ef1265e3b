package normalize

import (
	"encoding/binary"
	"regexp/syntax"
	"slices"
)

// digitDFA is a deterministic automaton over the ten ASCII digits that
// runs up to 16 regular expressions at once. libphonenumber's metadata
// patterns only ever see digit strings, so ten transitions per state are
// all a match needs, and one pass over a number tells which of a region's
// patterns match it, where Go's regexp would run one NFA simulation per
// pattern.
type digitDFA struct {
	// next[s*10+d] is the state after digit d in state s. State 0 is dead
	// (no pattern can match any more), state 1 the start.
	next []uint16
	// accept[s] has bit i set when pattern i matches the input that led
	// to s.
	accept []uint16
}

// maxDFAStates bounds one automaton. The largest region (all its number
// types together, BD) needs about 500 states, all 245 regions 25,000
// (600 KiB); a pattern set past the bound is left to regexp rather than
// risk the exponential blow-up subset construction allows.
const maxDFAStates = 1 << 15

// fullMatch returns the patterns that match all of s, as
// regexp.MatchString does with "^(?:pattern)$". s must be digits: any
// other byte ends the match with no pattern.
func (a *digitDFA) fullMatch(s string) uint16 {
	st := uint16(1)
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0
		}
		if st = a.next[int(st)*10+int(d)]; st == 0 {
			return 0
		}
	}
	return a.accept[st]
}

// prefixMatch returns the patterns that match some prefix of s, as
// regexp.MatchString does with "^(?:pattern)". s must be digits.
func (a *digitDFA) prefixMatch(s string) uint16 {
	st := uint16(1)
	m := a.accept[st]
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		if st = a.next[int(st)*10+int(d)]; st == 0 {
			break
		}
		m |= a.accept[st]
	}
	return m
}

// size is the memory the automaton holds, in bytes.
func (a *digitDFA) size() int { return 2 * (cap(a.next) + cap(a.accept)) }

// compileDigitDFA builds one automaton for up to 16 patterns in Go's
// regexp syntax. It returns in failed the patterns it cannot handle; their
// bits are never set, and the caller must match them with regexp. It
// handles everything but empty-width assertions (^, $, \b), which the
// metadata's national-number patterns do not use; a pattern that does not
// parse fails too. When the automaton would exceed maxDFAStates, every
// pattern fails and a is nil.
func compileDigitDFA(patterns []string) (a *digitDFA, failed uint16) {
	if len(patterns) > 16 {
		panic("compileDigitDFA: more than 16 patterns")
	}
	// One NFA for all patterns: their programs side by side, thread ids
	// offset so they stay apart, each Match instruction tagged with its
	// pattern.
	var n nfa
	for i, p := range patterns {
		prog, ok := compileProg(p)
		if !ok {
			failed |= 1 << i
			continue
		}
		n.add(prog, uint16(1)<<i)
	}

	a = &digitDFA{
		next:   make([]uint16, 20),
		accept: make([]uint16, 2),
	}
	ids := map[string]uint16{}
	// Subset construction: every DFA state is the set of NFA threads
	// (consuming or matching instructions) alive after the input so far.
	states := [][]uint32{nil, nil}
	var starts []uint32
	n.gen++
	for _, s := range n.starts {
		starts = n.closure(starts, s)
	}
	slices.Sort(starts)
	states[1] = starts
	ids[key(starts)] = 1
	a.accept[1] = n.acceptMask(starts)
	for s := 1; s < len(states); s++ {
		for d := range 10 {
			var set []uint32
			n.gen++
			for _, t := range states[s] {
				if in := n.insts[t]; in.Op != syntax.InstMatch && in.MatchRune('0'+rune(d)) {
					set = n.closure(set, n.base[t]+in.Out)
				}
			}
			if len(set) == 0 {
				continue // dead: next stays 0
			}
			slices.Sort(set)
			k := key(set)
			id, seen := ids[k]
			if !seen {
				if len(states) == maxDFAStates {
					return nil, 1<<len(patterns) - 1
				}
				id = uint16(len(states))
				ids[k] = id
				states = append(states, set)
				a.next = append(a.next, make([]uint16, 10)...)
				a.accept = append(a.accept, n.acceptMask(set))
			}
			a.next[s*10+d] = id
		}
	}
	// Drop the slack append left: the automaton lives as long as the
	// process.
	a.next = slices.Clone(a.next)
	a.accept = slices.Clone(a.accept)
	return a, failed
}

// compileProg compiles a pattern as regexp.Compile does, reporting false
// when its program needs what the DFA cannot do.
func compileProg(pattern string) (*syntax.Prog, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	for _, in := range prog.Inst {
		if in.Op == syntax.InstEmptyWidth {
			return nil, false
		}
	}
	return prog, true
}

// nfa is several syntax.Progs merged into one thread space.
type nfa struct {
	insts  []syntax.Inst
	base   []uint32 // base[t]: offset of the program thread t belongs to
	mask   []uint16 // mask[t]: the pattern bit of that program
	starts []uint32
	seen   []uint32 // closure's visit marks, by generation
	gen    uint32
}

func (n *nfa) add(p *syntax.Prog, bit uint16) {
	base := uint32(len(n.insts))
	n.insts = append(n.insts, p.Inst...)
	for range p.Inst {
		n.base = append(n.base, base)
		n.mask = append(n.mask, bit)
	}
	n.seen = append(n.seen, make([]uint32, len(p.Inst))...)
	n.starts = append(n.starts, base+uint32(p.Start))
}

// closure appends to set the threads reachable from t without consuming
// input, skipping those visited since the last n.gen++ (which starts a
// set).
func (n *nfa) closure(set []uint32, t uint32) []uint32 {
	var walk func(t uint32)
	walk = func(t uint32) {
		if n.seen[t] == n.gen {
			return
		}
		n.seen[t] = n.gen
		in := &n.insts[t]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			walk(n.base[t] + in.Out)
			walk(n.base[t] + in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			walk(n.base[t] + in.Out)
		case syntax.InstFail:
		default: // rune instructions and Match
			set = append(set, t)
		}
	}
	walk(t)
	return set
}

func (n *nfa) acceptMask(set []uint32) uint16 {
	var m uint16
	for _, t := range set {
		if n.insts[t].Op == syntax.InstMatch {
			m |= n.mask[t]
		}
	}
	return m
}

// key encodes a sorted thread set as a map key.
func key(set []uint32) string {
	b := make([]byte, 0, 4*len(set))
	for _, t := range set {
		b = binary.LittleEndian.AppendUint32(b, t)
	}
	return string(b)
}
