package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// ValidateSourceConfig checks a source's config against its connector's
// config schema (connector.Spec.ConfigSchema, draft 2020-12) and reports
// every problem as Errors located in the config file, like Parse does.
func (c *Config) ValidateSourceConfig(source string, configSchema json.RawMessage) error {
	s, ok := c.Source(source)
	if !ok {
		return fmt.Errorf("config %s: no source %q", c.File, source)
	}
	url := "https://desilo.dev/connector/" + s.Connector + "/config.schema.json"
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft2020
	if err := comp.AddResource(url, bytes.NewReader(configSchema)); err != nil {
		return fmt.Errorf("source %s: connector %s has an invalid config schema: %w", s.Name, s.Connector, err)
	}
	sch, err := comp.Compile(url)
	if err != nil {
		return fmt.Errorf("source %s: connector %s has an invalid config schema: %w", s.Name, s.Connector, err)
	}
	var raw any
	if err := json.Unmarshal(configSchema, &raw); err != nil {
		return fmt.Errorf("source %s: connector %s has an invalid config schema: %w", s.Name, s.Connector, err)
	}
	r := &renderer{d: c.doc, raw: map[string]any{url: raw}, base: s.Pointer() + "/config"}
	if m, ok := raw.(map[string]any); ok {
		if id, ok := m["$id"].(string); ok { // error locations then use the schema's own id
			r.raw[id] = raw
		}
	}
	if err := sch.Validate(r.valueAt(r.base)); err != nil {
		return r.render(err).sorted()
	}
	return nil
}
