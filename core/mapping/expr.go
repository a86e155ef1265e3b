package mapping

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// expr is a compiled connector.Expr: paths are resolved to slots of the
// record scan, conversions to converters.
type expr struct {
	op   op
	slot int  // opPath
	list bool // yields a list: a path with "[]", or a coalesce of one
	subs []*expr
	sep  []byte
	c    value // opConst

	trim, lower bool
	values      map[string][]byte
	conv        converter // cNone: the value is passed on as it is

	bare bool // a single-value path with no trim, lower or values: most expressions
}

type op uint8

const (
	opPath op = iota
	opCoalesce
	opConcat
	opConst
)

// compiler turns expressions into exprs, adding their paths to the trie.
type compiler struct {
	root  *node
	slots int
}

func (c *compiler) path(p string) (*node, error) {
	steps, err := parsePath(p)
	if err != nil {
		return nil, err
	}
	n := c.root.insert(steps)
	if n.slot < 0 {
		n.slot = c.slots
		c.slots++
	}
	return n, nil
}

// literal adds a top-level field name (a primary key field) as it is,
// without reading dots or brackets as path syntax.
func (c *compiler) literal(name string) int {
	n := c.root.insert([]step{{key: name, index: -1}})
	if n.slot < 0 {
		n.slot = c.slots
		c.slots++
	}
	return n.slot
}

// expr compiles an expression; def is the conversion when it names no
// type: the target column's type at the top, none inside.
func (c *compiler) expr(e connector.Expr, def conv) (*expr, error) {
	x := &expr{trim: e.Trim, lower: e.Lower}
	set := 0
	if e.Path != "" {
		set++
		n, err := c.path(e.Path)
		if err != nil {
			return nil, err
		}
		x.op, x.slot, x.list = opPath, n.slot, n.list
	}
	if e.Coalesce != nil {
		set++
		if len(e.Coalesce) == 0 {
			return nil, errors.New("coalesce needs at least one expression")
		}
		x.op = opCoalesce
		for i, s := range e.Coalesce {
			sub, err := c.expr(s, cNone)
			if err != nil {
				return nil, fmt.Errorf("coalesce[%d]: %w", i, err)
			}
			x.subs = append(x.subs, sub)
			x.list = x.list || sub.list
		}
	}
	if e.Concat != nil {
		set++
		if len(e.Concat) == 0 {
			return nil, errors.New("concat needs at least one expression")
		}
		x.op, x.sep = opConcat, []byte(e.Sep)
		for i, s := range e.Concat {
			sub, err := c.expr(s, cNone)
			if err != nil {
				return nil, fmt.Errorf("concat[%d]: %w", i, err)
			}
			x.subs = append(x.subs, sub)
		}
	}
	if e.Const != nil {
		set++
		v, err := constValue(e.Const)
		if err != nil {
			return nil, err
		}
		x.op, x.c = opConst, v
	}
	switch {
	case set == 0:
		return nil, errors.New("expression needs one of path, coalesce, concat or const")
	case set > 1:
		return nil, errors.New("expression may have only one of path, coalesce, concat and const")
	case e.Sep != "" && e.Concat == nil:
		return nil, errors.New("sep applies only to concat")
	}
	if len(e.Values) > 0 {
		x.values = make(map[string][]byte, len(e.Values))
		for k, v := range e.Values {
			x.values[k] = []byte(v)
		}
	}
	conv, err := converterFor(e, def)
	if err != nil {
		return nil, err
	}
	x.conv = conv
	x.bare = x.op == opPath && !x.list && !x.trim && !x.lower && x.values == nil
	return x, nil
}

// converterFor resolves Type, Layout and Scale; def is the conversion
// when Type is empty (the target column's type at the top, none inside).
func converterFor(e connector.Expr, def conv) (converter, error) {
	c := converter{conv: def}
	if e.Type != "" {
		t, ok := convNames[e.Type]
		if !ok {
			return c, fmt.Errorf("unknown type %q (want one of %s)", e.Type, strings.Join(sortedKeys(convNames), ", "))
		}
		c.conv = t
	}
	if e.Layout != "" && c.conv != cTimestamp && c.conv != cDate {
		return c, fmt.Errorf("layout %q applies only to type timestamp or date", e.Layout)
	}
	switch e.Layout {
	case "", "rfc3339":
		c.layout = lRFC3339
	case "epoch_s":
		c.layout = lEpochS
	case "epoch_ms":
		c.layout = lEpochMS
	default:
		if err := checkLayout(e.Layout, c.conv == cTimestamp); err != nil {
			return c, err
		}
		c.layout, c.goFmt, c.fixed = lGo, e.Layout, newFixedLayout(e.Layout)
	}
	if e.Scale != 0 && c.conv != cMoney {
		return c, fmt.Errorf("scale applies only to type money_minor")
	}
	if c.conv == cMoney {
		scale := e.Scale
		if scale == 0 {
			scale = 2
		}
		if scale < 0 || scale > 18 {
			return c, fmt.Errorf("scale %d is outside 0..18", e.Scale)
		}
		c.scale = math.Pow10(scale)
	}
	return c, nil
}

// checkLayout rejects a Go layout that cannot tell dates apart (a typo
// such as "YYYY-MM-DD" has no layout element at all) or cannot read what
// it writes.
func checkLayout(layout string, timestamp bool) error {
	base := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	out := base.Format(layout)
	for _, other := range []time.Time{base.AddDate(1, 0, 0), base.AddDate(0, 1, 0), base.AddDate(0, 0, 1)} {
		if other.Format(layout) == out {
			return fmt.Errorf("layout %q does not hold a full date (Go layouts use the reference time 2006-01-02 15:04:05, e.g. \"02.01.2006 15:04\")", layout)
		}
	}
	if timestamp && base.Add(time.Hour).Format(layout) == out {
		return fmt.Errorf("layout %q has no hour; use type: date for dates", layout)
	}
	if _, err := time.Parse(layout, out); err != nil {
		return fmt.Errorf("layout %q cannot be parsed back: %w", layout, err)
	}
	// A zone abbreviation (MST) parses to an offset Go guesses from the
	// host's own zone, or to UTC when it knows none: silently wrong times.
	if strings.Contains(base.In(time.FixedZone("QQQ", 3600)).Format(layout), "QQQ") {
		return fmt.Errorf("layout %q reads a zone abbreviation (MST), whose offset Go can only guess; use a numeric offset (-0700 or Z07:00)", layout)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// constValue accepts what JSON and YAML decoders produce for a scalar.
func constValue(c any) (value, error) {
	switch c := c.(type) {
	case string:
		if c == "" {
			return value{}, nil
		}
		return value{kind: kString, text: []byte(c)}, nil
	case bool:
		return value{kind: kBool, b: c}, nil
	case float64:
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return value{}, fmt.Errorf("const %v is not a number a column can hold", c)
		}
		return value{kind: kNumber, text: appendFloat(nil, c)}, nil
	case int:
		return value{kind: kNumber, text: strconv.AppendInt(nil, int64(c), 10)}, nil
	case int64:
		return value{kind: kNumber, text: strconv.AppendInt(nil, c, 10)}, nil
	case uint64:
		return value{kind: kNumber, text: strconv.AppendUint(nil, c, 10)}, nil
	}
	return value{}, fmt.Errorf("const must be a string, number or boolean, not %T", c)
}

// hasPath reports whether the expression reads the record at all;
// expressions that do not are evaluated once, at compile time.
func (x *expr) hasPath() bool {
	if x.op == opPath {
		return true
	}
	for _, s := range x.subs {
		if s.hasPath() {
			return true
		}
	}
	return false
}

// eval computes a single value.
func (st *state) eval(x *expr) (value, error) {
	if x.bare { // what steps would do, without its checks
		return st.convert(&x.conv, st.fromSpan(st.sc.spans[x.slot]))
	}
	var v value
	switch x.op {
	case opPath:
		v = st.fromSpan(st.sc.spans[x.slot])
	case opConst:
		v = x.c
	case opCoalesce:
		for _, s := range x.subs {
			sv, err := st.eval(s)
			if err != nil {
				return value{}, err
			}
			if sv.kind != kEmpty {
				v = sv
				break
			}
		}
	case opConcat:
		var err error
		if v, err = st.concat(x); err != nil {
			return value{}, err
		}
	}
	return st.steps(x, v)
}

// evalList appends a list expression's non-empty values to st.vals and
// returns where they start.
func (st *state) evalList(x *expr) (int, error) {
	start := len(st.vals)
	switch {
	case x.op == opPath && x.list:
		for _, sp := range st.sc.lists[x.slot] {
			st.vals = append(st.vals, st.fromSpan(sp))
		}
	case x.op == opPath:
		v := st.fromSpan(st.sc.spans[x.slot])
		if v.kind != kArray {
			st.vals = append(st.vals, v)
			break
		}
		// A path without "[]" that holds an array fills a list column
		// with its elements.
		var err error
		first := len(st.elems)
		st.elems, err = elements(v.text, st.elems)
		if err != nil {
			return start, err
		}
		for _, sp := range st.elems[first:] {
			st.vals = append(st.vals, st.fromRaw(v.text[sp.start:sp.end]))
		}
	case x.op == opCoalesce:
		for _, s := range x.subs {
			from, err := st.evalList(s)
			if err != nil {
				return start, err
			}
			if len(st.vals) > from {
				break
			}
		}
	default:
		v, err := st.eval(x)
		if err != nil {
			return start, err
		}
		st.vals = append(st.vals, v)
		return st.compact(start), nil
	}
	for i := start; i < len(st.vals); i++ {
		v, err := st.steps(x, st.vals[i])
		if err != nil {
			return start, err
		}
		st.vals[i] = v
	}
	return st.compact(start), nil
}

// compact drops empty values from st.vals[start:].
func (st *state) compact(start int) int {
	out := st.vals[:start]
	for _, v := range st.vals[start:] {
		if v.kind != kEmpty {
			out = append(out, v)
		}
	}
	st.vals = out
	return start
}

// concat joins the text of the non-empty parts with the separator.
func (st *state) concat(x *expr) (value, error) {
	start := len(st.vals)
	for _, s := range x.subs {
		if s.list {
			if _, err := st.evalList(s); err != nil {
				return value{}, err
			}
			continue
		}
		v, err := st.eval(s)
		if err != nil {
			return value{}, err
		}
		if v.kind != kEmpty {
			st.vals = append(st.vals, v)
		}
	}
	// Render every part before joining: rendering may append to st.buf.
	for i := start; i < len(st.vals); i++ {
		t, err := st.text(st.vals[i])
		if err != nil {
			return value{}, err
		}
		st.vals[i] = value{kind: kString, text: t}
	}
	begin, n := len(st.buf), 0
	for _, v := range st.vals[start:] {
		if len(v.text) == 0 {
			continue
		}
		if n > 0 {
			st.buf = append(st.buf, x.sep...)
		}
		st.buf = append(st.buf, v.text...)
		n++
	}
	st.vals = st.vals[:start]
	if n == 0 {
		return value{}, nil
	}
	return value{kind: kString, text: st.buf[begin:len(st.buf):len(st.buf)]}, nil
}
