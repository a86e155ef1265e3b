package mapping

import (
	"fmt"
	"strconv"
	"strings"
)

// step is one step of a path into a record: an object member, a member
// that may also be an array position ("addresses.0"), or every element.
type step struct {
	key   string
	index int // >= 0 when key is a canonical array index
	each  bool
}

// parsePath splits a path once, at compile time. Segments are separated by
// '.'; a segment may end in one or more "[]" (every element of the array);
// a backslash makes the next character literal: Str\. is the key "Str.".
func parsePath(p string) ([]step, error) {
	var (
		steps     []step
		seg       strings.Builder
		started   bool // seg holds a segment, possibly an empty-looking escaped one
		literal   bool // seg has an escaped character: never an array index
		afterEach bool // the last token was "[]"
	)
	flush := func() {
		s := step{key: seg.String(), index: -1}
		if !literal {
			s.index = arrayIndex(s.key)
		}
		steps = append(steps, s)
		seg.Reset()
		started, literal = false, false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '.':
			switch {
			case started:
				flush()
			case !afterEach:
				return nil, fmt.Errorf("path %q has an empty segment", p)
			}
			afterEach = false
			continue
		case '[':
			if i+1 == len(p) || p[i+1] != ']' {
				return nil, fmt.Errorf("path %q: '[' must be followed by ']' (write \\[ for a literal bracket)", p)
			}
			if started {
				flush()
			} else if !afterEach {
				return nil, fmt.Errorf("path %q: \"[]\" must follow a field name", p)
			}
			steps = append(steps, step{index: -1, each: true})
			afterEach = true
			i++
			continue
		case ']':
			return nil, fmt.Errorf("path %q: unexpected ']' (write \\] for a literal bracket)", p)
		}
		if afterEach {
			return nil, fmt.Errorf("path %q: \"[]\" must be followed by '.', another \"[]\" or the end", p)
		}
		if c == '\\' {
			if i+1 == len(p) {
				return nil, fmt.Errorf("path %q ends in a lone backslash", p)
			}
			i++
			c = p[i]
			literal = true
		}
		seg.WriteByte(c)
		started = true
	}
	switch {
	case started:
		flush()
	case !afterEach:
		return nil, fmt.Errorf("path %q is empty or ends in '.'", p)
	}
	return steps, nil
}

// arrayIndex returns the index a segment names, or -1: only canonical
// decimal numbers ("0", "12", not "012") are indexes.
func arrayIndex(s string) int {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || s[0] == '+' {
		return -1
	}
	return n
}

// node is a trie of every path a plan reads, so one pass over a record's
// JSON finds all of them and skips everything else.
type node struct {
	slot  int // where the value at this node is recorded; -1: not read
	list  bool
	keys  map[string]*node
	byLen [][]member // keys shorter than maxShortName, by length, for child
	index []indexChild
	each  *node
}

type member struct {
	name string
	n    *node
}

type indexChild struct {
	i int
	n *node
}

func newNode() *node { return &node{slot: -1} }

// insert adds a path and returns its node; the node's slot is shared by
// every path that reaches it.
func (n *node) insert(steps []step) *node {
	list := false
	for _, s := range steps {
		if s.each {
			if n.each == nil {
				n.each = newNode()
			}
			n = n.each
			list = true
			continue
		}
		child := n.keys[s.key]
		if child == nil {
			child = newNode()
			if n.keys == nil {
				n.keys = map[string]*node{}
			}
			n.keys[s.key] = child
			if k := s.key; len(k) < maxShortName {
				if len(k) >= len(n.byLen) {
					n.byLen = append(n.byLen, make([][]member, len(k)+1-len(n.byLen))...)
				}
				n.byLen[len(k)] = append(n.byLen[len(k)], member{k, child})
			}
			if s.index >= 0 {
				n.index = append(n.index, indexChild{s.index, child})
			}
		}
		n = child
	}
	n.list = list
	return n
}

// maxShortName bounds the names child finds without the map, so a
// mapping with a very long name costs no large table.
const maxShortName = 64

// child returns the node for a member name, or nil. The scanner calls it
// for every member of every object it walks into, so it avoids hashing:
// the names a plan reads rarely share a length, and comparing the few that
// do is cheaper than a map lookup.
func (n *node) child(name []byte) *node {
	if len(name) >= maxShortName {
		return n.keys[string(name)] // no allocation: map lookup by []byte
	}
	if len(name) >= len(n.byLen) {
		return nil
	}
	for _, m := range n.byLen[len(name)] {
		if m.name == string(name) {
			return m.n
		}
	}
	return nil
}

func (n *node) at(i int) *node {
	for _, c := range n.index {
		if c.i == i {
			return c.n
		}
	}
	return nil
}
