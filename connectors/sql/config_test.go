package sql

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// TestParseConfig checks the Go-side validation and that the JSON Schema
// agrees with it on every case: the host validates with the schema, an
// in-process run with parseConfig.
func TestParseConfig(t *testing.T) {
	const dsn = `"dsn": "postgres://u:secretpw@h/db"`
	cases := []struct {
		name   string
		config string
		want   string // substring of the error; "" means valid
	}{
		{"table stream", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "public.a", "primary_key": ["id"], "cursor_field": "u"}]}`, ""},
		{"query stream", `{"driver": "mysql", ` + dsn + `, "streams": [{"name": "a", "query": "SELECT 1 AS id", "primary_key": ["id"], "batch_size": 5}]}`, ""},
		{"cursor in key", `{"driver": "mysql", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"], "cursor_field": "id"}]}`, ""},
		{"preset", `{"driver": "mysql", ` + dsn + `, "preset": "woocommerce"}`, ""},
		{"preset plus streams", `{"driver": "mysql", ` + dsn + `, "preset": "woocommerce", "table_prefix": "shop_", "streams": [{"name": "extra", "table": "t", "primary_key": ["id"]}]}`, ""},
		{"unknown field", `{"driver": "postgres", ` + dsn + `, "streams": [], "host": "x"}`, `unknown field "host"`},
		{"unknown stream field", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"], "cursor": "u"}]}`, `unknown field "cursor"`},
		{"bad driver", `{"driver": "oracle", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"]}]}`, `driver "oracle"`},
		{"no dsn", `{"driver": "postgres", "streams": [{"name": "a", "table": "a", "primary_key": ["id"]}]}`, "dsn is required"},
		{"no streams", `{"driver": "postgres", ` + dsn + `}`, "no streams"},
		{"empty streams", `{"driver": "postgres", ` + dsn + `, "streams": []}`, "no streams"},
		{"table and query", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "query": "SELECT 1", "primary_key": ["id"]}]}`, "exactly one of table and query"},
		{"neither table nor query", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "primary_key": ["id"]}]}`, "exactly one of table and query"},
		{"no primary key", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a"}]}`, "primary_key is required"},
		{"empty key column", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": [""]}]}`, "empty column name"},
		{"bad name", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a-b", "table": "a", "primary_key": ["id"]}]}`, `name "a-b"`},
		{"duplicate name", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"]}, {"name": "a", "table": "b", "primary_key": ["id"]}]}`, `"a" is used twice`},
		{"duplicate with preset", `{"driver": "mysql", ` + dsn + `, "preset": "woocommerce", "streams": [{"name": "orders", "table": "b", "primary_key": ["id"]}]}`, `"orders" is used twice`},
		{"semicolon", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "query": "SELECT 1 AS id;", "primary_key": ["id"]}]}`, "semicolon"},
		{"negative batch", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"], "batch_size": -1}]}`, "batch_size -1"},
		{"cursor lookback", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"], "cursor_field": "u", "cursor_lookback": "15m"}]}`, ""},
		{"bad cursor lookback", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"], "cursor_field": "u", "cursor_lookback": "soon"}]}`, "cursor_lookback"},
		{"lookback without cursor", `{"driver": "postgres", ` + dsn + `, "streams": [{"name": "a", "table": "a", "primary_key": ["id"], "cursor_lookback": "5m"}]}`, "needs a cursor_field"},
		{"preset on postgres", `{"driver": "postgres", ` + dsn + `, "preset": "woocommerce"}`, "needs driver mysql"},
		{"unknown preset", `{"driver": "mysql", ` + dsn + `, "preset": "magento"}`, `preset "magento"`},
		{"bad prefix", `{"driver": "mysql", ` + dsn + `, "preset": "woocommerce", "table_prefix": "wp; DROP"}`, "table_prefix"},
		{"prefix without preset", `{"driver": "mysql", ` + dsn + `, "table_prefix": "wp_", "streams": [{"name": "a", "table": "a", "primary_key": ["id"]}]}`, "only used with a preset"},
	}
	schema := compileConfigSchema(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(json.RawMessage(tc.config))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("parseConfig: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("parseConfig accepted it, want an error with %q", tc.want)
			case err != nil && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q does not contain %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "secretpw"):
				t.Errorf("error leaks the DSN: %v", err)
			}
			// Go-only rules: the schema cannot see duplicate names; a
			// trailing semicolon is harmless to it. A preset's driver, a
			// prefix without a preset and a look-back without a cursor are
			// in the schema, so that desilo validate, which has only the
			// schema, refuses them as a sync would.
			goOnly := []string{"duplicate name", "duplicate with preset", "semicolon"}
			if slices.Contains(goOnly, tc.name) {
				return
			}
			var v any
			if err := json.Unmarshal([]byte(tc.config), &v); err != nil {
				t.Fatal(err)
			}
			if schemaErr := schema.Validate(v); (schemaErr == nil) != (tc.want == "") {
				t.Errorf("schema validation = %v, parseConfig = %v: they disagree", schemaErr, err)
			}
		})
	}
}

func compileConfigSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource("mem://config.json", bytes.NewReader(New().Spec().ConfigSchema)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://config.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConfigSchemaDocumented checks every property of the config schema
// has a description: the docs are generated from it.
func TestConfigSchemaDocumented(t *testing.T) {
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		props, _ := node["properties"].(map[string]any)
		for name, p := range props {
			pm := p.(map[string]any)
			if d, _ := pm["description"].(string); d == "" && !strings.HasPrefix(path, "anyOf") {
				t.Errorf("%s%s has no description", path, name)
			}
			walk(path+name+".", pm)
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(path+"[].", items)
		}
	}
	var root map[string]any
	if err := json.Unmarshal(configSchema, &root); err != nil {
		t.Fatal(err)
	}
	walk("", root)
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(json.RawMessage(`{"driver": "mysql", "dsn": "x", "preset": "woocommerce"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Streams) != 2 || c.Streams[0].Table != "wp_wc_customer_lookup" || !strings.Contains(c.Streams[1].Query, "`wp_wc_orders`") {
		t.Errorf("preset streams = %+v; want the wp_ prefix", c.Streams)
	}
	for _, s := range c.Streams {
		if s.BatchSize != defaultBatchSize {
			t.Errorf("stream %s batch_size = %d, want %d", s.Name, s.BatchSize, defaultBatchSize)
		}
	}
}

func TestQuoteIdent(t *testing.T) {
	cases := []struct{ driver, in, want string }{
		{driverPostgres, "public.customers", `"public"."customers"`},
		{driverPostgres, `we"ird`, `"we""ird"`},
		{driverMySQL, "shop.wp_users", "`shop`.`wp_users`"},
		{driverMySQL, "a`b", "`a``b`"},
	}
	for _, tc := range cases {
		if got := (dialect{name: tc.driver}).quoteIdent(tc.in); got != tc.want {
			t.Errorf("%s quoteIdent(%q) = %s, want %s", tc.driver, tc.in, got, tc.want)
		}
	}
}
