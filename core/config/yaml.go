package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

const (
	// maxNodes bounds the values a file may expand to, so aliases of
	// aliases ("billion laughs") fail instead of exhausting memory.
	maxNodes = 100_000
	maxDepth = 64
)

// position is where a value sits in the YAML file.
type position struct {
	keyLine int // the line of its key in a mapping; 0 for list items and the root
	line    int // the line of the value itself
}

// document is a YAML file turned into a JSON-compatible value (maps,
// slices, strings, json.Number, bools, nil), with the position of every
// value by JSON pointer so that later errors can name a line.
type document struct {
	file     string
	value    any
	pos      map[string]position
	errs     Errors
	x        *expander
	nodes    int
	overflow bool
}

// parseYAML reads one YAML document. References in string scalars are
// expanded while converting, after parsing, so a referenced value can
// never add YAML structure.
func parseYAML(file string, data []byte, x *expander) *document {
	d := &document{file: file, pos: map[string]position{}, x: x}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) { // an empty file is an empty mapping
			d.value = map[string]any{}
			d.pos[""] = position{line: 1}
			return d
		}
		d.errs = append(d.errs, yamlError(file, err))
		return d
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.addf(extra.Line, "", "a second YAML document: the file must hold exactly one")
	}
	d.value = d.convert(&root, "", 0, 0)
	if d.overflow { // what was converted is a fragment: validating it would only add noise
		d.value = nil
	}
	// Errors found while converting hold a pointer as Path; it renders only
	// now that the value exists ([1] for a list index, .key for a key).
	for _, e := range d.errs {
		e.Path = d.pathOf(e.Path)
	}
	return d
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: mapping values are
// not allowed in this context") into an Error with a line.
func yamlError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, after
			}
		}
	}
	if line > 0 && parserProblems[msg] {
		// yaml.v3 reports these 0-based, at the start of the enclosing
		// collection.
		line++
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// parserProblems are yaml.v3's parser (not scanner) errors.
var parserProblems = map[string]bool{
	"did not find expected node content":  true,
	"did not find expected '-' indicator": true,
	"did not find expected key":           true,
	"did not find expected ',' or ']'":    true,
	"did not find expected ',' or '}'":    true,
	"found undefined tag handle":          true,
}

func (d *document) addf(line int, ptr, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: ptr, Msg: fmt.Sprintf(format, args...)})
}

// tooBig counts a node and reports, once, a document that expands beyond
// the limits; conversion then stops descending.
func (d *document) tooBig(n *yaml.Node, ptr string, depth int) bool {
	d.nodes++
	if d.nodes <= maxNodes && depth <= maxDepth {
		return false
	}
	if !d.overflow {
		d.overflow = true
		d.addf(n.Line, "", "the document is too large or too deeply nested (aliases of aliases?)")
	}
	return true
}

func (d *document) convert(n *yaml.Node, ptr string, keyLine, depth int) any {
	if d.tooBig(n, ptr, depth) {
		return nil
	}
	if _, seen := d.pos[ptr]; !seen {
		d.pos[ptr] = position{keyLine: keyLine, line: n.Line}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return map[string]any{}
		}
		return d.convert(n.Content[0], ptr, keyLine, depth)
	case yaml.AliasNode:
		return d.convert(n.Alias, ptr, keyLine, depth+1)
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			list = append(list, d.convert(item, ptr+"/"+strconv.Itoa(i), 0, depth+1))
		}
		return list
	case yaml.MappingNode:
		m := map[string]any{}
		d.mapping(m, n, ptr, depth, true)
		return m
	case yaml.ScalarNode:
		return d.scalar(n, ptr)
	}
	d.addf(n.Line, ptr, "unsupported YAML node")
	return nil
}

// mapping adds the pairs of n to m. Explicit keys override merged ones
// (<<: *anchor), and earlier merges override later ones, as YAML says.
func (d *document) mapping(m map[string]any, n *yaml.Node, ptr string, depth int, explicit bool) {
	lines := map[string]int{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.addf(k.Line, ptr, "a mapping key must be a plain value")
			continue
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := lines[k.Value]; dup {
			d.addf(k.Line, ptr+"/"+escapeToken(k.Value), "duplicate key (first at line %d)", first)
			continue
		}
		lines[k.Value] = k.Line
		if _, set := m[k.Value]; set && !explicit {
			continue
		}
		child := ptr + "/" + escapeToken(k.Value)
		m[k.Value] = d.convert(v, child, k.Line, depth+1)
	}
	for _, v := range merges {
		d.merge(m, v, ptr, depth+1)
	}
}

func (d *document) merge(m map[string]any, v *yaml.Node, ptr string, depth int) {
	if d.tooBig(v, ptr, depth) { // a mapping may merge itself
		return
	}
	for v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		d.mapping(m, v, ptr, depth, false)
	case yaml.SequenceNode:
		for _, item := range v.Content {
			d.merge(m, item, ptr, depth)
		}
	default:
		d.addf(v.Line, ptr, "a merge key (<<) takes a mapping or a list of mappings")
	}
}

func (d *document) scalar(n *yaml.Node, ptr string) any {
	switch tag := n.ShortTag(); tag {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			d.addf(n.Line, ptr, "invalid boolean")
		}
		return b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return json.Number(strconv.FormatUint(u, 10))
		}
		d.addf(n.Line, ptr, "integer out of range")
		return nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			d.addf(n.Line, ptr, "the number is not finite")
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case "!!str":
		s, err := d.x.expand(n.Value)
		if err != nil {
			d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Path: ptr, Msg: err.Error(), Err: err})
		}
		return s
	case "!!timestamp", "!!binary": // kept as written
		return n.Value
	default:
		d.addf(n.Line, ptr, "unsupported YAML tag %s", tag)
		return nil
	}
}

// line returns the line of the value at ptr or, when ptr names something
// absent (a missing required field), the line of its nearest ancestor's key.
func (d *document) line(ptr string) int {
	if p, ok := d.pos[ptr]; ok {
		return p.line
	}
	for ptr != "" {
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
		if p, ok := d.pos[ptr]; ok {
			if p.keyLine > 0 {
				return p.keyLine
			}
			return p.line
		}
	}
	return 0
}

// keyLine returns the line of the key of the value at ptr, falling back to
// the value's own line.
func (d *document) keyLine(ptr string) int {
	if p, ok := d.pos[ptr]; ok && p.keyLine > 0 {
		return p.keyLine
	}
	return d.line(ptr)
}

// pathOf renders a JSON pointer as a field path users read:
// /sources/1/mapping/contacts/fields/ids.crm → sources[1].mapping.contacts.fields["ids.crm"].
func (d *document) pathOf(ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	v := d.value
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = unescapeToken(tok)
		list, isList := v.([]any)
		if i, err := strconv.Atoi(tok); err == nil && (isList || v == nil) { // nil: unknown, a number is likelier an index
			fmt.Fprintf(&b, "[%d]", i)
			if i >= 0 && i < len(list) {
				v = list[i]
			} else {
				v = nil
			}
			continue
		}
		if identifier(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		} else {
			fmt.Fprintf(&b, "[%s]", strconv.Quote(tok))
		}
		m, _ := v.(map[string]any)
		v = m[tok]
	}
	return b.String()
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || (r != '-' && (r < '0' || r > '9'))) {
			return false
		}
	}
	return true
}

// escapeToken and unescapeToken encode one JSON pointer token (RFC 6901).
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}
