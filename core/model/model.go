// Package model turns the unified model's JSON Schemas (schema/*.schema.json)
// into tables: ordered, typed columns that the stage, the Parquet sink and
// BigQuery share, so no output schema is ever written by hand a second time.
//
// A row is a []any in column order. Its values are string, int64, float64,
// bool, time.Time (UTC; a Date is midnight UTC), []string for List columns
// (other List item types use []int64, []float64, []bool, []time.Time), or
// nil for a missing value.
//
// Derivation rules, per top-level property, in the file's property order:
//
//	"type": "string"                       String
//	"type": "string", "format": "date-time" Timestamp
//	"type": "string", "format": "date"      Date
//	"type": "integer" | "number" | "boolean" Integer | Number | Boolean
//	"type": "array", "items": {...}         List of the items' type
//	"type": "object", additionalProperties
//	  {"type": "string"}                    List of String: "name=value"
//	                                        pairs sorted by name (see Pairs)
//
// A column is Required when the property is listed in "required" and its
// type does not admit null ("type": ["string", "null"]). Any other shape is
// an error, so a schema change that no table can hold is caught at once.
package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/desilo/desilo/schema"
)

// Type is the scalar type of a column (of its items, for a List column).
type Type int

// The column types.
const (
	String Type = iota
	Integer
	Number
	Boolean
	Timestamp // time.Time, UTC, microsecond precision in outputs
	Date      // time.Time at midnight UTC
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Integer:
		return "integer"
	case Number:
		return "number"
	case Boolean:
		return "boolean"
	case Timestamp:
		return "timestamp"
	case Date:
		return "date"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Column is one column of a table.
type Column struct {
	Name     string
	Type     Type
	List     bool // a list of Type values; never null inside
	Required bool // never nil in a row
	// System marks a column desilo fills ("x-desilo-system": true in the
	// schema): source, stream, record_key, customer_id. A mapping cannot
	// target it.
	System      bool
	Description string
}

// Table is the columns of one schema file. Tables returned by Load are
// shared: treat them as read-only.
type Table struct {
	Name    string // the schema file's stem: "customer", "identity_link"
	Columns []Column
	index   map[string]int
}

// Index returns the position of the named column in a row.
func (t *Table) Index(name string) (int, bool) {
	if t.index == nil { // a Table built by hand rather than by FromSchema
		for i, c := range t.Columns {
			if c.Name == name {
				return i, true
			}
		}
		return 0, false
	}
	i, ok := t.index[name]
	return i, ok
}

// Outputs are the tables a build publishes.
var Outputs = []string{"customer", "identity_link", "event", "order", "ticket", "message", "merge", "reject"}

// Mapped maps a mapping's target entity to the table its records are staged in.
var Mapped = map[string]string{
	"customer": "customer_record",
	"order":    "order",
	"ticket":   "ticket",
	"message":  "message",
	"event":    "event",
}

var (
	mu    sync.Mutex
	cache = map[string]*Table{}
)

// Load returns the table of schema/<name>.schema.json, deriving it once.
func Load(name string) (*Table, error) {
	mu.Lock()
	defer mu.Unlock()
	if t, ok := cache[name]; ok {
		return t, nil
	}
	raw, err := schema.Read(name + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("model table %q: %w", name, err)
	}
	t, err := FromSchema(name, raw)
	if err != nil {
		return nil, err
	}
	cache[name] = t
	return t, nil
}

// MustLoad is Load for tables that are known to exist; it panics otherwise.
func MustLoad(name string) *Table {
	t, err := Load(name)
	if err != nil {
		panic(err)
	}
	return t
}

// property is the part of a property's JSON Schema that decides its column.
type property struct {
	Type                 json.RawMessage `json:"type"`
	Format               string          `json:"format"`
	Items                *property       `json:"items"`
	AdditionalProperties *property       `json:"additionalProperties"`
	Description          string          `json:"description"`
	System               bool            `json:"x-desilo-system"`
}

// FromSchema derives a table from the raw JSON Schema of an object. Load
// uses it for the embedded files; tests use it for schemas of their own.
func FromSchema(name string, raw []byte) (*Table, error) {
	order, props, err := properties(raw)
	if err != nil {
		return nil, fmt.Errorf("model table %q: %w", name, err)
	}
	var top struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("model table %q: %w", name, err)
	}
	required := make(map[string]bool, len(top.Required))
	for _, r := range top.Required {
		required[r] = true
	}
	t := &Table{Name: name, Columns: make([]Column, 0, len(order)), index: make(map[string]int, len(order))}
	for _, p := range order {
		var pr property
		if err := json.Unmarshal(props[p], &pr); err != nil {
			return nil, fmt.Errorf("model table %q, property %q: %w", name, p, err)
		}
		c, err := column(p, &pr)
		if err != nil {
			return nil, fmt.Errorf("model table %q, property %q: %w", name, p, err)
		}
		c.Required = c.Required && required[p]
		t.index[p] = len(t.Columns)
		t.Columns = append(t.Columns, c)
	}
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("model table %q: the schema has no properties", name)
	}
	return t, nil
}

// column derives a column; Required reports only whether null is excluded.
func column(name string, p *property) (Column, error) {
	typ, nullable, err := typeName(p.Type)
	if err != nil {
		return Column{}, err
	}
	c := Column{Name: name, Required: !nullable, System: p.System, Description: p.Description}
	switch typ {
	case "array":
		if p.Items == nil {
			return Column{}, errors.New(`an array needs "items"`)
		}
		item, err := column(name, p.Items)
		if err != nil {
			return Column{}, fmt.Errorf("items: %w", err)
		}
		if item.List {
			return Column{}, errors.New("lists of lists are not supported")
		}
		c.Type, c.List = item.Type, true
	case "object":
		ap := p.AdditionalProperties
		if ap == nil {
			return Column{}, errors.New(`an object needs "additionalProperties": {"type": "string"}`)
		}
		if vt, _, err := typeName(ap.Type); err != nil || vt != "string" || ap.Format != "" {
			return Column{}, errors.New(`an object's additionalProperties must be {"type": "string"}`)
		}
		c.Type, c.List = String, true
	default:
		st, err := scalar(typ, p.Format)
		if err != nil {
			return Column{}, err
		}
		c.Type = st
	}
	return c, nil
}

func scalar(typ, format string) (Type, error) {
	switch typ {
	case "string":
		switch format {
		case "date-time":
			return Timestamp, nil
		case "date":
			return Date, nil
		}
		return String, nil
	case "integer":
		return Integer, nil
	case "number":
		return Number, nil
	case "boolean":
		return Boolean, nil
	}
	return 0, fmt.Errorf("type %q has no column type", typ)
}

// typeName reads "type": "x" or "type": ["x", "null"].
func typeName(raw json.RawMessage) (typ string, nullable bool, err error) {
	if len(raw) == 0 {
		return "", false, errors.New(`missing "type"`)
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one, one == "null", nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return "", false, fmt.Errorf(`"type" is neither a string nor a list of strings: %s`, raw)
	}
	for _, t := range many {
		switch {
		case t == "null":
			nullable = true
		case typ == "":
			typ = t
		default:
			return "", false, fmt.Errorf(`"type" %s: only one type besides "null" is supported`, raw)
		}
	}
	if typ == "" {
		return "", false, fmt.Errorf(`"type" %s names no type besides "null"`, raw)
	}
	return typ, nullable, nil
}

// properties returns the top-level property names in file order, and each
// property's raw schema. encoding/json maps do not keep order, so the
// "properties" object is walked token by token.
func properties(raw []byte) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, nil, fmt.Errorf("schema: %w", err)
	}
	var (
		order []string
		props map[string]json.RawMessage
	)
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("schema: %w", err)
		}
		if key != "properties" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, fmt.Errorf("schema, key %v: %w", key, err)
			}
			continue
		}
		if err := expectDelim(dec, '{'); err != nil {
			return nil, nil, fmt.Errorf(`schema "properties": %w`, err)
		}
		props = map[string]json.RawMessage{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, nil, fmt.Errorf(`schema "properties": %w`, err)
			}
			name := tok.(string) // object keys are always strings
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, nil, fmt.Errorf("schema property %q: %w", name, err)
			}
			if _, dup := props[name]; dup {
				return nil, nil, fmt.Errorf("schema property %q appears twice", name)
			}
			props[name] = v
			order = append(order, name)
		}
		if _, err := dec.Token(); err != nil { // the closing '}'
			return nil, nil, fmt.Errorf(`schema "properties": %w`, err)
		}
	}
	if props == nil {
		return nil, nil, errors.New(`schema has no "properties"`)
	}
	return order, props, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, found %v", want, tok)
	}
	return nil
}

// Pairs turns a map of string values (customer_record.ids) into the column
// form: "name=value" strings sorted by name. Empty values are left out.
func Pairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

// SplitPair splits one "name=value" entry of a Pairs column at its first '='.
func SplitPair(s string) (name, value string, ok bool) {
	return strings.Cut(s, "=")
}
