package sql

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
)

// loadWooCommerce creates the WooCommerce tables of testdata/woocommerce.sql
// under a unique prefix, dropped when the test ends.
func loadWooCommerce(t *testing.T, e *testEnv) string {
	t.Helper()
	prefix := fmt.Sprintf("desilo%08x_", rand.Uint32())
	script, err := os.ReadFile("testdata/woocommerce.sql")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, name := range []string{"wc_customer_lookup", "wc_order_stats", "wc_orders"} {
			e.db.Exec("DROP TABLE IF EXISTS " + prefix + name)
		}
	})
	conn, err := e.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// WooCommerce's own DDL uses zero-date defaults.
	if _, err := conn.ExecContext(t.Context(), "SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(strings.ReplaceAll(string(script), "{prefix}", prefix), ";\n") {
		var lines []string
		for _, l := range strings.Split(stmt, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "--") {
				lines = append(lines, l)
			}
		}
		if stmt = strings.TrimSpace(strings.Join(lines, "\n")); stmt == "" {
			continue
		}
		if _, err := conn.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("testdata/woocommerce.sql: %v\n%s", err, stmt)
		}
	}
	return prefix
}

func TestWooCommercePreset(t *testing.T) {
	e := newTestEnv(t, driverMySQL, "DESILO_TEST_MYSQL_DSN")
	prefix := loadWooCommerce(t, e)
	config := mustJSON(t, map[string]any{"driver": "mysql", "dsn": e.dsn, "preset": "woocommerce", "table_prefix": prefix})

	if err := New().Check(t.Context(), config); err != nil {
		t.Fatalf("Check: %v", err)
	}
	streams, err := New().Discover(t.Context(), config)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	byName := map[string]connector.Stream{}
	for _, s := range streams {
		byName[s.Name] = s
	}
	customers, orders := byName["customers"], byName["orders"]
	if customers.Mapping == nil || customers.Mapping.Entity != "customer" || orders.Mapping == nil || orders.Mapping.Entity != "order" {
		t.Fatalf("streams = %+v; want customers → customer and orders → order", streams)
	}
	if orders.CursorField != "updated_at" || !reflect.DeepEqual(customers.PrimaryKey, []string{"customer_id"}) {
		t.Errorf("orders cursor %q, customers key %v", orders.CursorField, customers.PrimaryKey)
	}
	// Every path a default mapping reads is a column of its stream.
	for _, s := range streams {
		schema := compileSchema(t, s.Schema)
		for target, expr := range s.Mapping.Fields {
			for _, p := range exprPaths(expr) {
				if _, ok := schema.Properties[p]; !ok {
					t.Errorf("stream %s: mapping of %s reads %q, not a column", s.Name, target, p)
				}
			}
		}
	}

	c := mustRead(t, config, nil)
	if got := joinIDs(ids(t, c.Stream("customers"), "customer_id")); got != "1,2,3" {
		t.Errorf("customers = %s, want 1,2,3", got)
	}
	gotOrders := c.Stream("orders")
	if got := joinIDs(ids(t, gotOrders, "id")); got != "101,100,102" {
		t.Fatalf("orders = %s, want 101,100,102 (by updated_at; the refund 103 left out)", got)
	}
	// customer_ref is the customers stream's key: from wc_order_stats, or
	// for an order the analytics import has not reached, from the lookup
	// row of its WordPress user.
	if got := joinIDs(ids(t, gotOrders, "customer_id")); got != "2,1,3" {
		t.Errorf("orders' customer_id = %s, want 2,1,3", got)
	}
	anna := decode(t, gotOrders[1].Data)
	want := map[string]any{"total_amount": "49.90000000", "currency": "EUR", "billing_email": "anna@example.com",
		"status": "wc-completed", "num_items_sold": "2", "date_created_gmt": "2024-03-02T10:00:00Z", "updated_at": "2024-03-03T09:00:00Z"}
	for k, v := range want {
		if got := normalize(anna[k]); got != v {
			t.Errorf("order 100 %s = %v, want %v", k, got, v)
		}
	}
	if got := normalize(decode(t, gotOrders[0].Data)["total_amount"]); got != "1234567.89000000" {
		t.Errorf("order 101 total_amount = %v: digits lost", got)
	}

	// An order updated later is read again; nothing else is.
	e.exec(t, "UPDATE "+prefix+"wc_orders SET status = 'wc-completed', date_updated_gmt = '2024-04-01 00:00:00' WHERE id = 102")
	next := mustRead(t, config, c.State())
	if got := joinIDs(ids(t, next.Stream("orders"), "id")); got != "102" {
		t.Errorf("incremental orders = %s, want 102", got)
	}
	if got := len(next.Stream("customers")); got != 3 {
		t.Errorf("customers re-read = %d, want 3 (a full read every run)", got)
	}
}

func exprPaths(e connector.Expr) []string {
	var out []string
	if e.Path != "" {
		out = append(out, e.Path)
	}
	for _, sub := range slices.Concat(e.Coalesce, e.Concat) {
		out = append(out, exprPaths(sub)...)
	}
	return out
}
