package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// renderer turns jsonschema validation errors into Errors with a line and
// a field path. It reads the raw schema at each error's keyword location to
// say what was expected (the allowed fields, the enum values), and never
// quotes the offending value, which may be a secret.
type renderer struct {
	d    *document
	raw  map[string]any // schema URL → decoded schema JSON
	base string         // JSON pointer of the validated value within d
}

func (r *renderer) render(err error) Errors {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return Errors{{File: r.d.file, Line: r.d.line(r.base), Path: r.d.pathOf(r.base), Msg: err.Error(), Err: err}}
	}
	return r.errors(ve)
}

func (r *renderer) errors(ve *jsonschema.ValidationError) Errors {
	toks, node := r.schemaAt(ve.AbsoluteKeywordLocation)
	ptr := r.base + instancePointer(ve.InstanceLocation)
	kw := ""
	if n := len(toks); n > 0 && (n < 2 || toks[n-2] != "properties") {
		kw = toks[n-1]
	}
	if kw == "anyOf" || kw == "oneOf" {
		return r.alternatives(ve, node, ptr)
	}
	if len(ve.Causes) > 0 {
		var out Errors
		for _, c := range ve.Causes {
			out = append(out, r.errors(c)...)
		}
		return out
	}
	if node == false && kw != "additionalProperties" { // a false schema: this field may not be here
		msg := "not allowed"
		if i := slices.Index(toks, "dependentSchemas"); i >= 0 && i+1 < len(toks) {
			msg = fmt.Sprintf("not allowed together with %q", toks[i+1])
		} else if kw == "unevaluatedProperties" {
			msg = "unknown field"
		}
		return r.at(ptr, true, msg)
	}
	if n := len(toks); n >= 3 && toks[n-3] == "dependentRequired" {
		req := r.schemaNode(ve.AbsoluteKeywordLocation)
		return r.at(ptr+"/"+escapeToken(toks[n-2]), true, fmt.Sprintf("needs %v to be set too", req))
	}
	parentLoc := parentLocation(ve.AbsoluteKeywordLocation)
	parent, _ := r.schemaNode(parentLoc).(map[string]any)
	if n := len(toks); kw == "pattern" && n >= 3 && toks[n-3] == "$defs" {
		// A named pattern says in its description what it wants.
		if desc, ok := parent["description"].(string); ok {
			return r.at(ptr, false, "must be "+strings.ToLower(desc[:1])+strings.TrimSuffix(desc[1:], "."))
		}
	}
	return r.leaf(ve, kw, parent, ptr)
}

func (r *renderer) leaf(ve *jsonschema.ValidationError, kw string, s map[string]any, ptr string) Errors {
	v := r.valueAt(ptr)
	switch kw {
	case "type":
		return r.at(ptr, false, fmt.Sprintf("expected %s, got %s", strings.Join(types(s["type"]), " or "), jsonType(v)))
	case "const":
		b, _ := json.Marshal(s["const"])
		return r.at(ptr, false, "must be "+string(b))
	case "enum":
		var allowed []string
		for _, e := range asList(s["enum"]) {
			allowed = append(allowed, fmt.Sprint(e))
		}
		msg := "must be one of " + strings.Join(allowed, ", ")
		if str, ok := v.(string); ok {
			msg += suggest(str, allowed)
		}
		return r.at(ptr, false, msg)
	case "required":
		obj, _ := v.(map[string]any)
		var out Errors
		for _, name := range asList(s["required"]) {
			name := fmt.Sprint(name)
			if _, ok := obj[name]; !ok {
				child := ptr + "/" + escapeToken(name)
				out = append(out, &Error{File: r.d.file, Line: r.d.keyLine(ptr), Path: r.d.pathOf(child), Msg: "required field is missing"})
			}
		}
		return out
	case "additionalProperties":
		props, _ := s["properties"].(map[string]any)
		known := make([]string, 0, len(props))
		for k := range props {
			known = append(known, k)
		}
		slices.Sort(known)
		obj, _ := v.(map[string]any)
		var out Errors
		for k := range obj {
			if _, ok := props[k]; !ok {
				out = append(out, r.at(ptr+"/"+escapeToken(k), true, "unknown field"+suggest(k, known))...)
			}
		}
		return out
	case "pattern":
		return r.at(ptr, false, fmt.Sprintf("must match the pattern %v", s["pattern"]))
	case "minLength":
		if fmt.Sprint(s["minLength"]) == "1" {
			return r.at(ptr, false, "must not be empty")
		}
		return r.at(ptr, false, fmt.Sprintf("must be at least %v characters long", s["minLength"]))
	case "maxLength":
		return r.at(ptr, false, fmt.Sprintf("must be at most %v characters long", s["maxLength"]))
	case "minimum":
		return r.at(ptr, false, fmt.Sprintf("must be at least %v", s["minimum"]))
	case "maximum":
		return r.at(ptr, false, fmt.Sprintf("must be at most %v", s["maximum"]))
	case "exclusiveMinimum":
		return r.at(ptr, false, fmt.Sprintf("must be more than %v", s["exclusiveMinimum"]))
	case "exclusiveMaximum":
		return r.at(ptr, false, fmt.Sprintf("must be less than %v", s["exclusiveMaximum"]))
	case "minItems":
		return r.at(ptr, false, fmt.Sprintf("needs at least %v items", s["minItems"]))
	case "maxItems":
		return r.at(ptr, false, fmt.Sprintf("takes at most %v items", s["maxItems"]))
	case "minProperties":
		if fmt.Sprint(s["minProperties"]) == "1" {
			return r.at(ptr, false, "must not be empty")
		}
		return r.at(ptr, false, fmt.Sprintf("needs at least %v fields", s["minProperties"]))
	case "maxProperties":
		return r.at(ptr, false, fmt.Sprintf("takes at most %v fields", s["maxProperties"]))
	case "uniqueItems":
		return r.at(ptr, false, "must not repeat an item ("+ve.Message+")")
	case "format":
		return r.at(ptr, false, fmt.Sprintf("is not a valid %v", s["format"]))
	}
	return r.at(ptr, false, ve.Message)
}

// alternatives explains a failed anyOf or oneOf. Branches that failed only
// because the value has another JSON type are dropped; when one branch is
// left, its own errors are what the user needs to see.
func (r *renderer) alternatives(ve *jsonschema.ValidationError, node any, ptr string) Errors {
	branches := asList(node)
	if len(ve.Causes) == 0 { // oneOf: more than one branch matched
		if names := requiredOnly(branches); names != nil {
			return r.at(ptr, false, "set exactly one of "+strings.Join(names, ", "))
		}
		return r.at(ptr, false, "matches more than one of the allowed forms")
	}
	var kept []*jsonschema.ValidationError
	var want []string
	for _, c := range ve.Causes {
		if t, ok := r.typeMismatch(c, ve.InstanceLocation); ok {
			want = append(want, t...)
			continue
		}
		kept = append(kept, c)
	}
	switch {
	case len(kept) == 0:
		return r.at(ptr, false, fmt.Sprintf("expected %s, got %s", strings.Join(want, " or "), jsonType(r.valueAt(ptr))))
	case len(kept) == 1:
		return r.errors(kept[0])
	}
	if names := requiredOnly(branches); names != nil {
		return r.at(ptr, false, "set exactly one of "+strings.Join(names, ", "))
	}
	// Several shapes fit partly: show the one that got furthest.
	var best Errors
	depth := -1
	for _, c := range kept {
		errs := r.errors(c)
		d := 0
		for _, e := range errs {
			d = max(d, strings.Count(e.Path, ".")+strings.Count(e.Path, "["))
		}
		if d > depth {
			best, depth = errs, d
		}
	}
	return best
}

// typeMismatch reports whether err says only that the value at loc has the
// wrong JSON type, and which types the branch wanted.
func (r *renderer) typeMismatch(err *jsonschema.ValidationError, loc string) ([]string, bool) {
	for len(err.Causes) == 1 && err.InstanceLocation == loc {
		err = err.Causes[0]
	}
	if len(err.Causes) > 0 || err.InstanceLocation != loc || !strings.HasSuffix(err.AbsoluteKeywordLocation, "/type") {
		return nil, false
	}
	s, _ := r.schemaNode(parentLocation(err.AbsoluteKeywordLocation)).(map[string]any)
	return types(s["type"]), true
}

// requiredOnly returns the field names when every branch is just
// {"required": [name]}: the "exactly one of these fields" pattern.
func requiredOnly(branches []any) []string {
	var names []string
	for _, b := range branches {
		m, ok := b.(map[string]any)
		req := asList(m["required"])
		if !ok || len(m) != 1 || len(req) != 1 {
			return nil
		}
		names = append(names, fmt.Sprint(req[0]))
	}
	return names
}

// at makes the error for the value at ptr, on the line of its key when
// onKey (an unknown or forbidden field) and of the value otherwise.
func (r *renderer) at(ptr string, onKey bool, msg string) Errors {
	line := r.d.line(ptr)
	if onKey {
		line = r.d.keyLine(ptr)
	}
	return Errors{{File: r.d.file, Line: line, Path: r.d.pathOf(ptr), Msg: msg}}
}

func (r *renderer) valueAt(ptr string) any {
	if ptr == "" {
		return r.d.value
	}
	toks := strings.Split(ptr[1:], "/")
	for i, tok := range toks {
		toks[i] = unescapeToken(tok)
	}
	return walk(r.d.value, toks)
}

// walk follows pointer tokens through decoded JSON; nil when one leads
// nowhere.
func walk(v any, toks []string) any {
	for _, tok := range toks {
		switch c := v.(type) {
		case map[string]any:
			v = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// schemaAt splits a keyword location "URL#/a/b" into its pointer tokens and
// returns the raw schema value there.
func (r *renderer) schemaAt(loc string) ([]string, any) {
	_, frag, _ := strings.Cut(loc, "#")
	return locationTokens(frag), r.schemaNode(loc)
}

func (r *renderer) schemaNode(loc string) any {
	u, frag, _ := strings.Cut(loc, "#")
	v, ok := r.raw[u]
	if !ok {
		return nil
	}
	return walk(v, locationTokens(frag))
}

func parentLocation(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[:i]
	}
	return loc
}

// locationTokens decodes a jsonschema location (tokens escaped with ~0, ~1
// and then URL path escaping).
func locationTokens(frag string) []string {
	frag = strings.TrimPrefix(frag, "/")
	if frag == "" {
		return nil
	}
	toks := strings.Split(frag, "/")
	for i, t := range toks {
		if u, err := url.PathUnescape(t); err == nil {
			t = u
		}
		toks[i] = unescapeToken(t)
	}
	return toks
}

// instancePointer turns a jsonschema instance location into an RFC 6901
// pointer as document keys its positions.
func instancePointer(loc string) string {
	var b strings.Builder
	for _, t := range locationTokens(loc) {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// types lists a schema's "type" in the words of YAML users.
func types(t any) []string {
	list := asList(t)
	if s, ok := t.(string); ok {
		list = []any{s}
	}
	var out []string
	for _, x := range list {
		switch x {
		case "object":
			out = append(out, "mapping")
		case "array":
			out = append(out, "list")
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "an empty value"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}
