package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Mapping says how a stream's records become records of one unified-model
// entity. It has the same shape as a stream's `mapping` in desilo.yaml;
// core/mapping compiles it once per stream into a plan.
type Mapping struct {
	// Entity is the target: customer, order, ticket, message or event.
	Entity string `json:"entity"`
	// Fields maps a target field (see the Entities table) to an expression
	// over the source record.
	Fields map[string]Expr `json:"fields"`
}

// Expr computes one target value from a source record. Exactly one of
// Path, Coalesce, Concat and Const is set. In JSON and YAML a bare string
// is shorthand for {"path": ...}.
type Expr struct {
	// Path is a dotted path into the record: "email",
	// "properties.firstname", "addresses.0.zip" (array index),
	// "addresses[].zip" (every element: the value is a list).
	Path string `json:"path,omitempty"`
	// Coalesce yields the first of its expressions that is not empty.
	Coalesce []Expr `json:"coalesce,omitempty"`
	// Concat joins the non-empty string values of its expressions with Sep.
	Concat []Expr `json:"concat,omitempty"`
	Sep    string `json:"sep,omitempty"`
	Const  any    `json:"const,omitempty"`

	// Type converts the value: string (default for string targets),
	// integer, number, boolean, timestamp, date, money_minor (an integer
	// amount in minor units, divided by 10^Scale; Scale defaults to 2).
	Type string `json:"type,omitempty"`
	// Layout parses timestamps and dates: a Go time layout, "rfc3339"
	// (default), "epoch_s" or "epoch_ms".
	Layout string `json:"layout,omitempty"`
	Scale  int    `json:"scale,omitempty"`
	// Lower and Trim apply to string values.
	Lower bool `json:"lower,omitempty"`
	Trim  bool `json:"trim,omitempty"`
	// Values translates source values to model values ({"2": "open",
	// "subscribed": "true"}); a value not listed stays. Steps apply in
	// this order: Trim, Lower, Values, then the Type conversion.
	Values map[string]string `json:"values,omitempty"`
}

// P is shorthand for a path expression, for connectors' default mappings.
func P(path string) Expr { return Expr{Path: path} }

// UnmarshalJSON accepts a bare string as a path.
func (e *Expr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = Expr{Path: s}
		return nil
	}
	type plain Expr // no methods: no recursion
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("field expression: %w", err)
	}
	*e = Expr(p)
	return nil
}
