// Package specdoc renders a connector's config schema as a list of fields
// for people: `desilo connector spec` prints it, and the connector docs in
// docs/connectors.md are generated from it, so the docs cannot drift from
// what the connectors accept.
package specdoc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/desilo/desilo/plugins/connector"
)

// Field is one config field.
type Field struct {
	Path        string // "streams[].paths"
	Type        string // "string", "array of string", "one of: csv, jsonl"
	Required    bool
	Default     string
	Description string
}

// Fields lists the fields of a config schema, depth first, in the order
// the schema declares them (properties are sorted where JSON loses order).
func Fields(configSchema json.RawMessage) ([]Field, error) {
	var root map[string]any
	if err := json.Unmarshal(configSchema, &root); err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	var out []Field
	walk(root, root, "", &out)
	return out, nil
}

func walk(root, s map[string]any, prefix string, out *[]Field) {
	s = resolve(root, s)
	props, _ := s["properties"].(map[string]any)
	required := map[string]bool{}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	// Required fields first, then alphabetical: a stable, useful order.
	slices.SortFunc(names, func(a, b string) int {
		if required[a] != required[b] {
			if required[a] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, n := range names {
		p, _ := props[n].(map[string]any)
		p = resolve(root, p)
		path := n
		if prefix != "" {
			path = prefix + "." + n
		}
		f := Field{Path: path, Type: typeOf(root, p), Required: required[n], Description: oneLine(str(p["description"]))}
		if d, ok := p["default"]; ok {
			b, _ := json.Marshal(d)
			f.Default = string(b)
		}
		*out = append(*out, f)
		if _, ok := p["properties"]; ok {
			walk(root, p, path, out)
		}
		if items, ok := p["items"].(map[string]any); ok {
			if items = resolve(root, items); items["properties"] != nil {
				walk(root, items, path+"[]", out)
			}
		}
	}
}

// resolve follows a local $ref ("#/$defs/stream").
func resolve(root, s map[string]any) map[string]any {
	for i := 0; i < 8 && s != nil; i++ {
		ref, ok := s["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			return s
		}
		var cur any = root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		next, _ := cur.(map[string]any)
		if next == nil {
			return s
		}
		s = next
	}
	return s
}

func typeOf(root, s map[string]any) string {
	if enum, ok := s["enum"].([]any); ok {
		var vs []string
		for _, v := range enum {
			b, _ := json.Marshal(v)
			vs = append(vs, strings.Trim(string(b), `"`))
		}
		return "one of: " + strings.Join(vs, ", ")
	}
	var t string
	switch v := s["type"].(type) {
	case string:
		t = v
	case []any:
		var ts []string
		for _, x := range v {
			if x != "null" {
				ts = append(ts, str(x))
			}
		}
		t = strings.Join(ts, " or ")
	}
	if t == "array" {
		if items, ok := s["items"].(map[string]any); ok {
			if it := typeOf(root, resolve(root, items)); it != "" {
				return "array of " + it
			}
		}
	}
	if t == "" {
		if alts, ok := s["oneOf"].([]any); ok {
			var ts []string
			for _, a := range alts {
				if m, ok := a.(map[string]any); ok {
					ts = append(ts, typeOf(root, resolve(root, m)))
				}
			}
			return strings.Join(ts, " or ")
		}
		return "any"
	}
	return t
}

func str(v any) string { s, _ := v.(string); return s }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Text renders a spec for a terminal.
func Text(spec connector.Spec) (string, error) {
	fields, err := Fields(spec.ConfigSchema)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (protocol %d)\n", spec.Name, spec.Version, spec.ProtocolVersion)
	if spec.Description != "" {
		fmt.Fprintf(&b, "%s\n", spec.Description)
	}
	b.WriteString("\nconfig fields:\n")
	for _, f := range fields {
		req := ""
		if f.Required {
			req = ", required"
		}
		def := ""
		if f.Default != "" {
			def = ", default " + f.Default
		}
		fmt.Fprintf(&b, "  %s (%s%s%s)\n", f.Path, f.Type, req, def)
		if f.Description != "" {
			fmt.Fprintf(&b, "      %s\n", f.Description)
		}
	}
	return b.String(), nil
}

// Markdown renders a spec as a section of docs/connectors.md.
func Markdown(spec connector.Spec) (string, error) {
	fields, err := Fields(spec.ConfigSchema)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", spec.Name)
	if spec.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", spec.Description)
	}
	b.WriteString("| field | type | required | default | description |\n|---|---|---|---|---|\n")
	for _, f := range fields {
		req := ""
		if f.Required {
			req = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", f.Path, md(f.Type), req, md(f.Default), md(f.Description))
	}
	return b.String(), nil
}

func md(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
