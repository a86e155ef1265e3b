package mapping

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// check enforces what an entity's JSON Schema says about one property
// beyond its type (which the conversions guarantee): enum, pattern,
// lengths, bounds, and the same for list items and id values. A property
// that uses any other keyword is validated by the schema library itself,
// so a plan never accepts what the schema rejects.
type check struct {
	enum           map[string]bool
	enumText       string
	pattern        *regexp.Regexp
	minLen, maxLen int
	min, max       bound
	items          *check // list items; the value part of "name=value" pairs
	minItems       int
	maxItems       int
	pairs, date    bool // how jsonForm renders the value for full
	full           *jsonschema.Schema
}

type bound struct {
	set, exclusive bool
	v              float64
}

// newCheck returns nil when the property constrains nothing a typed value
// could break.
func newCheck(s *jsonschema.Schema, pairs, date bool) *check {
	if s == nil {
		return nil
	}
	c := &check{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, pairs: pairs, date: date}
	if !c.collect(s) {
		return &check{full: s, pairs: pairs, date: date}
	}
	if c.enum == nil && c.pattern == nil && c.minLen < 0 && c.maxLen < 0 && !c.min.set && !c.max.set &&
		c.items == nil && c.minItems < 0 && c.maxItems < 0 {
		return nil
	}
	return c
}

// collect reads the keywords check knows and reports false when the
// schema uses one it does not.
func (c *check) collect(s *jsonschema.Schema) bool {
	if s.Always != nil || s.Ref != nil || s.DynamicRef != nil || s.RecursiveRef != nil ||
		s.Not != nil || s.AllOf != nil || s.AnyOf != nil || s.OneOf != nil || s.If != nil ||
		s.Constant != nil || s.MultipleOf != nil || s.Contains != nil || s.UniqueItems ||
		s.PrefixItems != nil || s.Items != nil || s.AdditionalItems != nil || s.UnevaluatedItems != nil ||
		s.Properties != nil || s.PatternProperties != nil || s.PropertyNames != nil ||
		s.UnevaluatedProperties != nil || s.MinProperties >= 0 || s.MaxProperties >= 0 ||
		s.Dependencies != nil || s.DependentRequired != nil || s.DependentSchemas != nil ||
		s.ContentEncoding != "" || s.ContentMediaType != "" ||
		(s.Format != "" && s.Format != "date" && s.Format != "date-time") {
		return false
	}
	if s.Enum != nil {
		c.enum = map[string]bool{}
		var names []string
		for _, e := range s.Enum {
			switch e := e.(type) {
			case nil: // null is no value; nil never reaches a check
			case string:
				c.enum[e] = true
				names = append(names, e)
			default:
				return false
			}
		}
		c.enumText = strings.Join(names, ", ")
	}
	c.pattern, c.minLen, c.maxLen = s.Pattern, s.MinLength, s.MaxLength
	var ok bool
	if c.min, ok = toBound(s.Minimum, s.ExclusiveMinimum); !ok {
		return false
	}
	if c.max, ok = toBound(s.Maximum, s.ExclusiveMaximum); !ok {
		return false
	}
	c.minItems, c.maxItems = s.MinItems, s.MaxItems
	item := s.Items2020
	if c.pairs {
		if s.Items2020 != nil || s.MinItems >= 0 || s.MaxItems >= 0 {
			return false
		}
		ap, isSchema := s.AdditionalProperties.(*jsonschema.Schema)
		if !isSchema {
			return false
		}
		item = ap
	} else if s.AdditionalProperties != nil {
		return false
	}
	if item != nil {
		c.items = newCheck(item, false, false)
		if c.items != nil && c.items.full != nil {
			return false
		}
	}
	return true
}

func toBound(inclusive, exclusive *big.Rat) (bound, bool) {
	switch {
	case inclusive != nil && exclusive != nil:
		return bound{}, false
	case inclusive != nil:
		f, _ := inclusive.Float64()
		return bound{set: true, v: f}, true
	case exclusive != nil:
		f, _ := exclusive.Float64()
		return bound{set: true, exclusive: true, v: f}, true
	}
	return bound{}, true
}

// The checks below do nothing when the library validates the property
// (full); whole does that once the row's value is finished.

// text checks a string or a list item.
func (c *check) text(s []byte) error {
	if c.full != nil {
		return nil
	}
	if c.enum != nil && !c.enum[string(s)] {
		return fmt.Errorf("%q is not one of %s (translate source values with values)", clip(s), c.enumText)
	}
	if c.pattern != nil && !c.pattern.Match(s) {
		return fmt.Errorf("%q does not match the pattern %s", clip(s), c.pattern)
	}
	if c.minLen >= 0 || c.maxLen >= 0 {
		n := utf8.RuneCount(s)
		if c.minLen >= 0 && n < c.minLen {
			return fmt.Errorf("%q is shorter than %d characters", clip(s), c.minLen)
		}
		if c.maxLen >= 0 && n > c.maxLen {
			return fmt.Errorf("%q is longer than %d characters", clip(s), c.maxLen)
		}
	}
	return nil
}

// count checks a list's length.
func (c *check) count(n int) error {
	if c.full != nil {
		return nil
	}
	if c.minItems >= 0 && n < c.minItems {
		return fmt.Errorf("has %d items, fewer than %d", n, c.minItems)
	}
	if c.maxItems >= 0 && n > c.maxItems {
		return fmt.Errorf("has %d items, more than %d", n, c.maxItems)
	}
	return nil
}

// value checks a non-string scalar.
func (c *check) value(v any) error {
	switch v := v.(type) {
	case int64:
		return c.num(float64(v))
	case float64:
		return c.num(v)
	}
	return nil
}

// whole validates a finished value with the schema library, for a
// property that uses keywords check does not know; nil checks nothing.
func (c *check) whole(v any) error {
	if c == nil || c.full == nil || v == nil {
		return nil
	}
	if err := c.full.Validate(jsonForm(v, c.pairs, c.date)); err != nil {
		return schemaError(err)
	}
	return nil
}

func (c *check) num(f float64) error {
	if c.full != nil {
		return nil
	}
	if c.min.set && (f < c.min.v || c.min.exclusive && f == c.min.v) {
		return fmt.Errorf("%v is below the minimum %v", f, c.min.v)
	}
	if c.max.set && (f > c.max.v || c.max.exclusive && f == c.max.v) {
		return fmt.Errorf("%v is above the maximum %v", f, c.max.v)
	}
	return nil
}

// jsonForm renders a row value as the JSON value the schema describes.
func jsonForm(v any, pairs, date bool) any {
	switch v := v.(type) {
	case time.Time:
		if date {
			return v.Format(time.DateOnly)
		}
		return v.Format(time.RFC3339Nano)
	case []string:
		if pairs {
			m := make(map[string]any, len(v))
			for _, s := range v {
				k, val, _ := strings.Cut(s, "=")
				m[k] = val
			}
			return m
		}
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return v
}

// schemaError shortens the library's error to its innermost message.
func schemaError(err error) error {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return fmt.Errorf("does not validate against the schema: %s", ve.Message)
}
