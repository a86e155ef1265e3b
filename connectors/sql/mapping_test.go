package sql

import (
	"testing"

	"github.com/desilo/desilo/core/mapping"
)

// TestWooCommerceMappings compiles the preset's default mappings with
// core/mapping and maps every record read: none may be rejected.
func TestWooCommerceMappings(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	prefix := loadWooCommerce(t, e)
	config := mustJSON(t, map[string]any{"driver": "mysql", "dsn": e.dsn, "preset": "woocommerce", "table_prefix": prefix})
	streams, err := New().Discover(t.Context(), config)
	if err != nil {
		t.Fatal(err)
	}
	c := mustRead(t, config, nil)
	for _, st := range streams {
		plan, err := mapping.Default(st, nil)
		if err != nil {
			t.Fatalf("stream %s: %v", st.Name, err)
		}
		row := make([]any, len(plan.Table().Columns))
		for _, r := range c.Stream(st.Name) {
			if err := plan.Map("woo", r, row); err != nil {
				t.Errorf("stream %s: %v\n%s", st.Name, err, r.Data)
			}
		}
	}
}
