package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/schema"
)

// Plan is a stream's mapping compiled against its entity's table. It is
// safe for concurrent use.
type Plan struct {
	stream    string
	streamBox any
	entity    string
	table     *model.Table

	root     *node
	slots    int
	keySlots []int
	keyNames []string
	cols     []column
	required []int // non-system columns that must not be nil
	whole    []int // p.cols whose schema check needs the finished value

	sourceIdx, streamIdx, keyIdx int

	pool sync.Pool
}

// column is how one target column is filled.
type column struct {
	idx    int
	name   string
	typ    model.Type
	list   bool
	x      *expr
	fixed  any // folded: the value of an expression that reads no field
	folded bool
	pairs  []pair // an "ids"-like column: name=value pairs, sorted by name
	chk    *check
}

type pair struct {
	prefix []byte // "name="
	x      *expr
}

// FieldError is a mapping problem found at compile time.
type FieldError struct {
	Stream string
	Field  string // the target field as the mapping names it; "" for the whole mapping
	Err    error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("mapping %s: %v", e.Stream, e.Err)
	}
	return fmt.Sprintf("mapping %s.%s: %v", e.Stream, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// RejectError says why a record could not be mapped. The pipeline stages
// it as a reject row with the record's source, stream, key and payload.
type RejectError struct {
	Reason string
	// Key is the record's primary key as text, when it could be read.
	Key string
}

func (e *RejectError) Error() string { return "record rejected: " + e.Reason }

func reject(format string, args ...any) *RejectError {
	return &RejectError{Reason: fmt.Sprintf(format, args...)}
}

// Default compiles the user's mapping when there is one, else the
// stream's default mapping.
func Default(stream connector.Stream, override *connector.Mapping) (*Plan, error) {
	m := override
	if m == nil {
		m = stream.Mapping
	}
	if m == nil {
		return nil, &FieldError{Stream: stream.Name, Err: errors.New("the connector has no default mapping for this stream; give one under the source's mapping in desilo.yaml")}
	}
	return Compile(stream, *m)
}

// Compile validates a mapping once and returns its plan. All problems are
// reported together, each as a *FieldError.
func Compile(stream connector.Stream, m connector.Mapping) (*Plan, error) {
	name, ok := model.Mapped[m.Entity]
	if !ok {
		return nil, &FieldError{Stream: stream.Name, Err: fmt.Errorf("unknown entity %q (want one of %s)", m.Entity, strings.Join(sortedKeys(model.Mapped), ", "))}
	}
	table, err := model.Load(name)
	if err != nil {
		return nil, err
	}
	sch, err := schema.Compile(name + ".schema.json")
	if err != nil {
		return nil, err
	}
	return compile(stream, m, table, sch)
}

func compile(stream connector.Stream, m connector.Mapping, table *model.Table, sch *jsonschema.Schema) (*Plan, error) {
	p := &Plan{stream: stream.Name, streamBox: stream.Name, entity: m.Entity, table: table}
	fail := func(field string, err error) error { return &FieldError{Stream: stream.Name, Field: field, Err: err} }
	for _, sys := range []struct {
		name string
		idx  *int
	}{{"source", &p.sourceIdx}, {"stream", &p.streamIdx}, {"record_key", &p.keyIdx}} {
		i, ok := table.Index(sys.name)
		if !ok {
			return nil, fail("", fmt.Errorf("table %s has no %s column", table.Name, sys.name))
		}
		*sys.idx = i
	}
	if stream.Name == "" {
		return nil, fail("", errors.New("the stream has no name"))
	}

	c := &compiler{root: newNode()}
	var errs []error
	for _, k := range stream.PrimaryKey {
		if k == "" {
			errs = append(errs, fail("", errors.New("the stream's primary key names an empty field")))
			continue
		}
		p.keySlots = append(p.keySlots, c.literal(k))
		p.keyNames = append(p.keyNames, k)
	}

	if len(m.Fields) == 0 {
		errs = append(errs, fail("", errors.New("the mapping has no fields")))
	}
	targets := sortedKeys(m.Fields)
	byCol := map[int]*column{}
	fields, closed := recordFields(stream.Schema)
	for _, target := range targets {
		e := m.Fields[target]
		if closed {
			if err := readsAbsent(e, fields); err != nil {
				errs = append(errs, fail(target, err))
				continue
			}
		}
		colName, sub, isPair := strings.Cut(target, ".")
		i, ok := table.Index(colName)
		if !ok {
			errs = append(errs, fail(target, unknownField(table, target)))
			continue
		}
		col := table.Columns[i]
		prop := sch.Properties[colName]
		pairs := prop != nil && len(prop.Types) > 0 && prop.Types[0] == "object"
		switch {
		case col.System:
			errs = append(errs, fail(target, fmt.Errorf("%s is filled by desilo and cannot be mapped", colName)))
			continue
		case pairs && !isPair:
			errs = append(errs, fail(target, fmt.Errorf("map each of %s by name: %s.<name>", colName, colName)))
			continue
		case isPair && !pairs:
			errs = append(errs, fail(target, unknownField(table, target)))
			continue
		case isPair && (sub == "" || strings.Contains(sub, "=")):
			errs = append(errs, fail(target, fmt.Errorf("%q is not a valid name for %s (non-empty, without '=')", sub, colName)))
			continue
		}
		cl := byCol[i]
		if cl == nil {
			cl = &column{idx: i, name: colName, typ: col.Type, list: col.List, chk: newCheck(prop, pairs, col.Type == model.Date)}
			byCol[i] = cl
		}
		if isPair {
			x, err := c.expr(e, cString)
			if err == nil {
				err = fits(x, model.String, false)
			}
			if err != nil {
				errs = append(errs, fail(target, err))
				continue
			}
			cl.pairs = append(cl.pairs, pair{prefix: []byte(sub + "="), x: x})
			continue
		}
		if col.List && col.Type != model.String {
			errs = append(errs, fail(target, fmt.Errorf("mapping to a list of %s is not supported", col.Type)))
			continue
		}
		x, err := c.expr(e, defaultConv[col.Type])
		if err == nil {
			err = fits(x, col.Type, col.List)
		}
		if err != nil {
			errs = append(errs, fail(target, err))
			continue
		}
		cl.x = x
	}
	for i, col := range table.Columns {
		if !col.Required || col.System {
			continue
		}
		p.required = append(p.required, i)
		if byCol[i] == nil {
			errs = append(errs, fail(col.Name, fmt.Errorf("%s requires %s, and the mapping does not set it", m.Entity, col.Name)))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	p.root, p.slots = c.root, c.slots
	p.pool.New = func() any { return newState(p.slots) }
	for _, cl := range byCol {
		sort.Slice(cl.pairs, func(a, b int) bool { return string(cl.pairs[a].prefix) < string(cl.pairs[b].prefix) })
		p.cols = append(p.cols, *cl)
	}
	sort.Slice(p.cols, func(a, b int) bool { return p.cols[a].idx < p.cols[b].idx })
	fold := newState(p.slots)
	for i := range p.cols {
		cl := &p.cols[i]
		if cl.x == nil || cl.x.hasPath() {
			continue
		}
		fold.reset(nil)
		tmp := make([]any, len(table.Columns))
		err := p.fill(fold, cl, tmp)
		if err == nil {
			fold.finish(tmp)
			err = cl.chk.whole(tmp[cl.idx])
		}
		if err != nil {
			errs = append(errs, fail(cl.name, fmt.Errorf("const: %w", err)))
			continue
		}
		cl.fixed, cl.folded = tmp[cl.idx], true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i, c := range p.cols {
		if c.chk != nil && c.chk.full != nil && !c.folded {
			p.whole = append(p.whole, i)
		}
	}
	return p, nil
}

var defaultConv = map[model.Type]conv{
	model.String: cString, model.Integer: cInteger, model.Number: cNumber,
	model.Boolean: cBoolean, model.Timestamp: cTimestamp, model.Date: cDate,
}

// yields is the column type a conversion produces.
var yields = map[conv]model.Type{
	cString: model.String, cInteger: model.Integer, cNumber: model.Number, cBoolean: model.Boolean,
	cTimestamp: model.Timestamp, cDate: model.Date, cMoney: model.Number,
}

// fits checks that a top-level expression can fill a column.
func fits(x *expr, typ model.Type, list bool) error {
	if x.list && !list {
		return errors.New(`the expression yields a list (its path has "[]"), but the field holds one value`)
	}
	got := yields[x.conv.conv]
	switch {
	case got == typ,
		got == model.Integer && typ == model.Number,
		got == model.Timestamp && typ == model.Date,
		got == model.Date && typ == model.Timestamp:
		return nil
	}
	return fmt.Errorf("type %s cannot fill a %s field", convName(x.conv.conv), typ)
}

func convName(c conv) string {
	for name, v := range convNames {
		if v == c {
			return name
		}
	}
	return "none"
}

// recordFields returns the top-level fields of a stream's records when its
// schema lists them and allows no others (a CSV file's columns); closed is
// false when records may have other fields (an API's custom properties).
func recordFields(schema json.RawMessage) (fields []string, closed bool) {
	var s struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		PatternProperties    map[string]json.RawMessage `json:"patternProperties"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
	}
	if json.Unmarshal(schema, &s) != nil || len(s.PatternProperties) > 0 ||
		!bytes.Equal(bytes.TrimSpace(s.AdditionalProperties), []byte("false")) {
		return nil, false
	}
	return sortedKeys(s.Properties), true
}

// readsAbsent reports a path of e whose first segment is none of the
// record's fields: it would map null into every record, in silence.
func readsAbsent(e connector.Expr, fields []string) error {
	for _, subs := range [][]connector.Expr{e.Coalesce, e.Concat} {
		for _, sub := range subs {
			if err := readsAbsent(sub, fields); err != nil {
				return err
			}
		}
	}
	steps, err := parsePath(e.Path)
	if e.Path == "" || err != nil || steps[0].each { // a bad path has its own error
		return nil
	}
	name := steps[0].key
	for _, f := range fields {
		if f == name {
			return nil
		}
	}
	best, bestD := "", len(name)/2+1
	for _, f := range fields {
		if d := distance(strings.ToLower(name), strings.ToLower(f)); d < bestD {
			best, bestD = f, d
		}
	}
	hint := " (desilo discover lists the fields)"
	if best != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Errorf("path %q: the stream's records have no field %q%s", e.Path, name, hint)
}

func unknownField(t *model.Table, target string) error {
	best, bestD := "", len(target)/2+1
	for _, c := range t.Columns {
		if c.System {
			continue
		}
		if d := distance(target, c.Name); d < bestD {
			best, bestD = c.Name, d
		}
	}
	if best != "" {
		return fmt.Errorf("unknown target field %q (did you mean %q?)", target, best)
	}
	return fmt.Errorf("unknown target field %q", target)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Stream is the name of the stream the plan maps.
func (p *Plan) Stream() string { return p.stream }

// Entity is the mapping's target entity: customer, order, ...
func (p *Plan) Entity() string { return p.entity }

// Table is the table the plan's rows belong to; a row passed to Map has
// len(Table().Columns) values.
func (p *Plan) Table() *model.Table { return p.table }

// Map fills row with the record: source, stream, record_key and the mapped
// fields, every other column nil. A record that cannot be mapped or does
// not validate returns a *RejectError, and row is then unspecified; any
// other error is the caller's mistake (wrong row width, stream or source).
// A deleted record fills only source, stream and record_key.
func (p *Plan) Map(source string, rec connector.Record, row []any) error {
	switch {
	case len(row) != len(p.table.Columns):
		return fmt.Errorf("mapping %s: row has %d values, table %s has %d columns", p.stream, len(row), p.table.Name, len(p.table.Columns))
	case rec.Stream != "" && rec.Stream != p.stream:
		return fmt.Errorf("mapping %s: record of stream %q", p.stream, rec.Stream)
	case source == "":
		return fmt.Errorf("mapping %s: empty source name", p.stream)
	}
	clear(row)
	st := p.pool.Get().(*state)
	defer p.pool.Put(st)
	defer st.release()
	st.reset(rec.Data)
	if err := st.sc.record(p.root); err != nil {
		return &RejectError{Reason: err.Error()}
	}
	row[p.sourceIdx] = st.boxSource(source)
	row[p.streamIdx] = p.streamBox
	if err := p.recordKey(st, rec.Data); err != nil {
		return err
	}
	key := st.pend[len(st.pend)-1].span
	keyed := func(err *RejectError) error {
		err.Key = string(st.out[key.start:key.end])
		return err
	}
	if !rec.Deleted {
		for i := range p.cols {
			c := &p.cols[i]
			if c.folded {
				row[c.idx] = c.fixed
				continue
			}
			if err := p.fill(st, c, row); err != nil {
				return keyed(reject("%s: %v", c.name, err))
			}
		}
	}
	st.finish(row)
	if rec.Deleted {
		return nil
	}
	for _, i := range p.whole {
		c := &p.cols[i]
		if err := c.chk.whole(row[c.idx]); err != nil {
			return keyed(reject("%s: %v", c.name, err))
		}
	}
	for _, i := range p.required {
		if row[i] == nil {
			return keyed(reject("%s: required, but the record has no value for it", p.table.Columns[i].Name))
		}
	}
	return nil
}

// fill computes one column's value into row and checks it against the
// schema. Strings are only reserved here (see state.finish).
func (p *Plan) fill(st *state, c *column, row []any) error {
	switch {
	case c.pairs != nil:
		first := len(st.tmp)
		for _, pr := range c.pairs {
			v, err := st.eval(pr.x)
			if err != nil {
				return fmt.Errorf("%s: %w", pr.prefix[:len(pr.prefix)-1], err)
			}
			if v.kind == kEmpty {
				continue
			}
			if c.chk != nil && c.chk.items != nil {
				if err := c.chk.items.text(v.text); err != nil {
					return fmt.Errorf("%s: %w", pr.prefix[:len(pr.prefix)-1], err)
				}
			}
			start := len(st.out)
			st.out = append(append(st.out, pr.prefix...), v.text...)
			st.tmp = append(st.tmp, span{start, len(st.out)})
		}
		if len(st.tmp) == first {
			return nil
		}
		list := make([]string, len(st.tmp)-first)
		for i, sp := range st.tmp[first:] {
			st.pendL = append(st.pendL, pendingItem{list: list, elem: i, span: sp})
		}
		st.tmp = st.tmp[:first]
		row[c.idx] = list
	case c.list:
		start, err := st.evalList(c.x)
		if err != nil {
			return err
		}
		n := len(st.vals) - start
		if n == 0 {
			return nil
		}
		if c.chk != nil {
			if err := c.chk.count(n); err != nil {
				return err
			}
		}
		list := make([]string, n)
		for i, v := range st.vals[start:] {
			if c.chk != nil && c.chk.items != nil {
				if err := c.chk.items.text(v.text); err != nil {
					return fmt.Errorf("item %w", err)
				}
			}
			st.pendL = append(st.pendL, pendingItem{list: list, elem: i, span: st.reserve(v.text)})
		}
		st.vals = st.vals[:start]
		row[c.idx] = list
	default:
		var v value
		var err error
		if c.x.bare {
			// Most columns read one field and convert it, if that: eval
			// would only pass the value through one more call.
			v = st.fromSpan(st.sc.spans[c.x.slot])
			if v.kind != kString || c.typ != model.String {
				v, err = st.convert(&c.x.conv, v)
			}
		} else {
			v, err = st.eval(c.x)
		}
		if err != nil || v.kind == kEmpty {
			return err
		}
		if c.typ == model.String && v.kind == kString {
			if c.chk != nil {
				if err := c.chk.text(v.text); err != nil {
					return err
				}
			}
			st.pend = append(st.pend, pending{row: c.idx, span: st.reserve(v.text)})
			return nil
		}
		out, err := box(v, c.typ)
		if err != nil {
			return err
		}
		if c.chk != nil {
			if err := c.chk.value(out); err != nil {
				return err
			}
		}
		row[c.idx] = out
	}
	return nil
}

// box turns a converted value into the row's Go type for the column.
func box(v value, typ model.Type) (any, error) {
	switch {
	case typ == model.Integer && v.kind == kInt:
		return v.i, nil
	case typ == model.Number && v.kind == kFloat:
		return v.f, nil
	case typ == model.Number && v.kind == kInt:
		return float64(v.i), nil
	case typ == model.Boolean && v.kind == kBool:
		return v.b, nil
	case typ == model.Timestamp && v.kind == kTime:
		return v.time(), nil
	case typ == model.Date && v.kind == kTime:
		return midnight(v.time()), nil
	}
	return nil, fmt.Errorf("internal error: %s cannot fill a %s column", v.describe(), typ)
}

// recordKey renders the primary key as text: a single field's value as it
// is; several joined with '|', each '|' and '\' inside a value escaped
// with '\'. A stream without a primary key is keyed by the SHA-256 of its
// record's JSON, so identical records collapse and others stay apart.
func (p *Plan) recordKey(st *state, data []byte) error {
	if len(p.keySlots) == 0 {
		sum := sha256.Sum256(data)
		start := len(st.out)
		st.out = hex.AppendEncode(st.out, sum[:16])
		st.pend = append(st.pend, pending{row: p.keyIdx, span: span{start, len(st.out)}})
		return nil
	}
	// Read every part before joining: unescaping a part writes to st.buf.
	parts := len(st.vals)
	for i, slot := range p.keySlots {
		v := st.fromSpan(st.sc.spans[slot])
		switch v.kind {
		case kEmpty:
			return reject("primary key field %q is missing or empty", p.keyNames[i])
		case kObject, kArray:
			return reject("primary key field %q is %s, not a single value", p.keyNames[i], v.describe())
		}
		t, _ := st.text(v) // a single value always has text
		st.vals = append(st.vals, value{kind: kString, text: t})
	}
	start := len(st.out)
	for i, v := range st.vals[parts:] {
		if len(p.keySlots) == 1 {
			st.out = append(st.out, v.text...)
			break
		}
		if i > 0 {
			st.out = append(st.out, '|')
		}
		for _, c := range v.text {
			if c == '|' || c == '\\' {
				st.out = append(st.out, '\\')
			}
			st.out = append(st.out, c)
		}
	}
	st.vals = st.vals[:parts]
	st.pend = append(st.pend, pending{row: p.keyIdx, span: span{start, len(st.out)}})
	return nil
}
