package gen

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The WooCommerce dump loads into PostgreSQL and MariaDB as it is, into a
// fresh schema or database, and holds every row the truth names.
func TestSQLDumpLoads(t *testing.T) {
	o := DefaultOptions()
	o.People = 1200 // more than one INSERT statement per table
	dir, st := generate(t, o)
	dump, err := os.ReadFile(filepath.Join(dir, FileSQL))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"wp_wc_customer_lookup": st.Records["woocommerce/customers"],
		"wp_wc_orders":          st.Records["woocommerce/orders"],
		"wp_wc_order_stats":     st.Records["woocommerce/orders"],
	}
	if want["wp_wc_orders"] <= sqlRowsPerInsert {
		t.Fatalf("only %d orders: the test wants several INSERT statements", want["wp_wc_orders"])
	}
	name := fmt.Sprintf("desilo_gen_%d", os.Getpid())

	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("DESILO_TEST_POSTGRES_DSN")
		if dsn == "" {
			t.Skip("DESILO_TEST_POSTGRES_DSN is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name+"; SET search_path TO "+name); err != nil {
			t.Fatal(err)
		}
		defer conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE")
		// The simple protocol runs a script of many statements.
		if _, err := conn.Exec(ctx, string(dump), pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("loading the dump: %v", err)
		}
		for table, n := range want {
			var got int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
		var umlauts int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM wp_wc_customer_lookup WHERE last_name LIKE '%ü%' OR city LIKE '%ü%'").Scan(&umlauts); err != nil || umlauts == 0 {
			t.Errorf("no names or cities with ü survived: %d, %v", umlauts, err)
		}
	})

	t.Run("mariadb", func(t *testing.T) {
		dsn := os.Getenv("DESILO_TEST_MYSQL_DSN")
		if dsn == "" {
			t.Skip("DESILO_TEST_MYSQL_DSN is not set (e.g. root@tcp(127.0.0.1:3306)/test?parseTime=true)")
		}
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MultiStatements = true
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["time_zone"] = "'+00:00'" // as the dump's header asks
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		conn, err := db.Conn(ctx) // USE holds for this connection only
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4; USE "+name); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "DROP DATABASE "+name)
		if _, err := conn.ExecContext(ctx, string(dump)); err != nil {
			t.Fatalf("loading the dump: %v", err)
		}
		for table, n := range want {
			var got int
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("%s: %d rows, want %d", table, got, n)
			}
		}
		var city string
		if err := conn.QueryRowContext(ctx, "SELECT city FROM wp_wc_customer_lookup WHERE city LIKE 'M%nchen' LIMIT 1").Scan(&city); err != nil || !strings.Contains(city, "ü") {
			t.Errorf("München did not survive: %q, %v", city, err)
		}
	})
}
