// Package schema embeds desilo's JSON Schemas (draft 2020-12): the unified
// customer model and desilo.yaml. They are the single source of truth; the
// Parquet and BigQuery schemas are derived from them in code.
package schema

import (
	"bytes"
	"embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed *.schema.json
var files embed.FS

// Read returns the raw bytes of an embedded schema, e.g. "customer.schema.json".
func Read(name string) ([]byte, error) { return files.ReadFile(name) }

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Compile returns the compiled schema of an embedded file, compiling it once.
func Compile(name string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	// Draft 2020-12 treats "format" as a mere annotation; desilo relies on
	// it to reject a date-time or date that is not one.
	c.AssertFormat = true
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	// Every embedded file is a resource, so schemas may $ref each other.
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(URL(e.Name()), bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("schema %s: %w", e.Name(), err)
		}
	}
	s, err := c.Compile(URL(name))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	compiled[name] = s
	return s, nil
}

// URL is the id under which an embedded schema is registered.
func URL(name string) string { return "https://desilo.dev/schema/" + name }
