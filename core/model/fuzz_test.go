package model

import "testing"

// FromSchema must reject, never panic on, whatever a schema file holds.
func FuzzFromSchema(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(`{"properties": {"a": {"type": ["string", "null"], "format": "date"}}}`))
	f.Add([]byte(`{"properties": {"a": {"type": "array", "items": {"type": "object"}}}}`))
	f.Add([]byte(`[1, 2]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tb, err := FromSchema("fuzz", raw)
		if err != nil {
			return
		}
		for i, c := range tb.Columns {
			if j, ok := tb.Index(c.Name); !ok || j != i {
				t.Fatalf("Index(%q) = %d, %v; want %d", c.Name, j, ok, i)
			}
		}
	})
}
