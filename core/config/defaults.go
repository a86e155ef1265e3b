package config

import (
	"path/filepath"
	"strings"
)

// applyDefaults fills in every default, on the validated document before it
// is decoded. The schema's "default" annotations document the same values;
// a test keeps the two in step.
func applyDefaults(root map[string]any) {
	def(root, "state_dir", ".desilo")
	def(root, "sources", []any{})
	for _, s := range objects(root["sources"]) {
		def(s, "config", map[string]any{})
	}

	id := object(root, "identity")
	def(id, "keys", []any{
		map[string]any{"name": "email"},
		map[string]any{"name": "phone"},
	})
	def(id, "limits", []any{})
	for _, k := range objects(id["keys"]) {
		if _, composite := k["composite"]; !composite {
			def(k, "field", k["name"])
			def(k, "normalize", string(NaturalNormalizer(k["field"].(string))))
		}
		def(k, "max_records_per_value", 50)
		def(k, "blocklist", []any{})
		def(k, "use_default_blocklist", true)
	}

	surv := object(object(root, "profile"), "survivorship")
	def(surv, "default", string(MostRecent))
	fields, _ := surv["fields"].(map[string]any)
	for _, f := range fields {
		f := f.(map[string]any)
		if _, ok := f["source_priority"]; ok {
			def(f, "rule", string(SourcePriority))
		}
		def(f, "rule", surv["default"])
		if f["rule"] == string(SourcePriority) {
			if list, ok := surv["source_priority"]; ok {
				def(f, "source_priority", list)
			}
		}
	}

	out := object(root, "output")
	pq := object(out, "parquet")
	def(pq, "path", "out")
	def(pq, "row_group_size", 100_000)
	if bq, ok := out["bigquery"].(map[string]any); ok {
		def(bq, "table_prefix", "")
		// No default partition_type: without one, a new table is
		// partitioned by month and an existing one keeps its granularity
		// (core/sink/bigquery).
	}

	run := object(root, "run")
	def(run, "max_reject_ratio", 0.05)
	def(run, "idle_timeout", "5m")
	def(run, "source_timeout", "0")
	def(run, "log_level", "info")
}

func def(m map[string]any, key string, v any) {
	if _, ok := m[key]; !ok {
		m[key] = v
	}
}

// object returns m[key], creating an empty mapping when absent.
func object(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}

func objects(v any) []map[string]any {
	var out []map[string]any
	for _, item := range asList(v) {
		if m, ok := item.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// canonicalize makes the file's relative paths absolute, against Dir, and
// checksums lower-case.
func (c *Config) canonicalize() {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(c.Dir, *p)
		}
	}
	abs(&c.StateDir)
	abs(&c.Output.Parquet.Path)
	if bq := c.Output.BigQuery; bq != nil {
		abs(&bq.CredentialsFile)
	}
	for i := range c.Sources {
		abs(&c.Sources[i].Plugin.Path)
		c.Sources[i].Plugin.SHA256 = strings.ToLower(c.Sources[i].Plugin.SHA256)
	}
}
