package files

import (
	"bytes"
	"context"
	"encoding/json"
)

// fastCheck handles records from their top-level members, without decoding
// them, for a stream whose schema only gives top-level properties JSON
// types and requires some, as an inferred schema does. Any other schema
// goes through the jsonschema library on the decoded record.
type fastCheck struct {
	index  map[string]int // field name -> position in fields
	fields []fastField
	pk     []int    // positions of the primary key fields
	cursor int      // position of the cursor field, or -1
	vals   [][]byte // scratch: each field's value in the record at hand
	// last remembers the names at each member position in the previous
	// record: records of a file mostly list their fields in one order,
	// and comparing a name is cheaper than hashing it.
	last []slot
}

type slot struct {
	name  string
	field int // position in fields, or -1: not a field of the schema
}

type fastField struct {
	name     string
	kinds    jsonKind // the types the schema allows
	required bool
}

const draft2020 = "https://json-schema.org/draft/2020-12/schema"

// newFastCheck returns the fast check for a stream's schema, or nil when
// the schema says more than the fast path understands.
func newFastCheck(s *StreamConfig, schema []byte) *fastCheck {
	var top map[string]json.RawMessage
	if json.Unmarshal(schema, &top) != nil {
		return nil
	}
	f := &fastCheck{index: map[string]int{}, cursor: -1}
	for k, v := range top {
		switch k {
		case "$schema":
			var u string
			if json.Unmarshal(v, &u) != nil || u != draft2020 {
				return nil
			}
		case "type":
			var t string
			if json.Unmarshal(v, &t) != nil || t != "object" {
				return nil
			}
		case "properties":
			var props map[string]map[string]json.RawMessage
			if json.Unmarshal(v, &props) != nil {
				return nil
			}
			for name, p := range props {
				kinds, ok := kindsOf(p)
				if !ok {
					return nil
				}
				f.fields[f.field(name)].kinds = kinds
			}
		case "required":
			var req []string
			if json.Unmarshal(v, &req) != nil {
				return nil
			}
			for _, name := range req {
				f.fields[f.field(name)].required = true
			}
		default:
			return nil
		}
	}
	for _, name := range s.PrimaryKey {
		f.pk = append(f.pk, f.field(name))
	}
	if s.CursorField != "" {
		f.cursor = f.field(s.CursorField)
	}
	f.vals = make([][]byte, len(f.fields))
	return f
}

// field returns the position of a field, adding it if need be.
func (f *fastCheck) field(name string) int {
	i, ok := f.index[name]
	if !ok {
		i = len(f.fields)
		f.index[name] = i
		f.fields = append(f.fields, fastField{name: name, kinds: kindAny})
	}
	return i
}

// lookup returns the position of the field named key, found at member
// position k, or -1 when the schema does not name it.
func (f *fastCheck) lookup(k int, key []byte) int {
	if k < len(f.last) && f.last[k].name == string(key) {
		return f.last[k].field
	}
	s := slot{field: -1}
	if i, ok := f.index[string(key)]; ok {
		s = slot{name: f.fields[i].name, field: i}
	} else {
		s.name = string(key)
	}
	for len(f.last) <= k {
		f.last = append(f.last, slot{field: -1})
	}
	f.last[k] = s
	return s.field
}

// kindsOf reads a property schema that is empty or only a type (or list
// of types).
func kindsOf(p map[string]json.RawMessage) (jsonKind, bool) {
	if len(p) == 0 {
		return kindAny, true
	}
	raw, ok := p["type"]
	if !ok || len(p) != 1 {
		return 0, false
	}
	var names []string
	if json.Unmarshal(raw, &names) != nil {
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return 0, false
		}
		names = []string{name}
	}
	var kinds jsonKind
	for _, n := range names {
		switch n {
		case "null":
			kinds |= kindNull
		case "boolean":
			kinds |= kindBoolean
		case "number":
			kinds |= kindNumber
		case "string":
			kinds |= kindString
		case "array":
			kinds |= kindArray
		case "object":
			kinds |= kindObject
		default: // "integer" depends on the value, not only the type
			return 0, false
		}
	}
	return kinds, true
}

// handleFast is handle for a row with members. done is false when the row
// needs the slow path: a name with escapes or a field given twice (where
// encoding/json decides which value counts), or a record the schema
// rejects (the slow path says why).
func (r *streamReader) handleFast(ctx context.Context, path string, row row) (done bool, err error) {
	f := r.fast
	vals := f.vals
	clear(vals)
	for k, m := range row.members {
		if m.escaped {
			return false, nil
		}
		i := f.lookup(k, m.key)
		if i < 0 {
			continue
		}
		if vals[i] != nil {
			return false, nil
		}
		vals[i] = m.value
	}
	for _, i := range f.pk {
		if vals[i] == nil || kindOf(vals[i]) == kindNull {
			return true, r.reject(ctx, path, row.line, missingKey(f.fields[i].name), truncate(row.data))
		}
	}
	if c := f.cursor; c >= 0 && (vals[c] == nil || kindOf(vals[c]) == kindNull) {
		return true, r.reject(ctx, path, row.line, missingCursor(f.fields[c].name), truncate(row.data))
	}
	for i, field := range f.fields {
		if vals[i] == nil {
			if field.required {
				return false, nil
			}
		} else if kindOf(vals[i])&field.kinds == 0 {
			return false, nil
		}
	}
	if f.cursor < 0 {
		return true, r.emit(ctx, row.data, nil)
	}
	cursor, err := decodeValue(vals[f.cursor])
	if err != nil {
		return false, nil
	}
	if _, err := f.key(vals); err != nil {
		return false, nil // the slow path rejects the row
	}
	return true, r.emit(ctx, row.data, cursor)
}

// key is primaryKey from members: the key values as one JSON array, as
// json.Marshal writes it.
func (f *fastCheck) key(vals [][]byte) (string, error) {
	buf := make([]byte, 0, 64)
	buf = append(buf, '[')
	for n, i := range f.pk {
		if n > 0 {
			buf = append(buf, ',')
		}
		v := vals[i]
		switch kindOf(v) {
		case kindNumber, kindBoolean:
			buf = append(buf, v...)
			continue
		case kindString:
			if marshalsAsIs(v) {
				buf = append(buf, v...)
				continue
			}
		}
		x, err := decodeJSON(v)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(x)
		if err != nil {
			return "", err
		}
		buf = append(buf, b...)
	}
	return string(append(buf, ']')), nil
}

// marshalsAsIs reports whether json.Marshal writes a valid string literal
// s as it is: without escapes, and without the characters it escapes.
func marshalsAsIs(s []byte) bool {
	for i, c := range s {
		switch {
		case c == '\\' || c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8: // U+2028, U+2029
			return false
		}
	}
	return true
}

// decodeValue decodes a valid JSON value as decodeJSON does, without the
// decoder for the common scalars.
func decodeValue(v []byte) (any, error) {
	switch kindOf(v) {
	case kindNumber:
		return json.Number(v), nil
	case kindBoolean:
		return v[0] == 't', nil
	case kindString:
		if s := v[1 : len(v)-1]; bytes.IndexByte(s, '\\') < 0 {
			return string(s), nil
		}
	}
	return decodeJSON(v)
}
