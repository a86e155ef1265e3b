package bigquery

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/iterator"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
)

// liveConfig returns the config of the live test, or skips it: it needs
// DESILO_BQ_PROJECT and credentials. It never probes the metadata server.
func liveConfig(t *testing.T) config.BigQuery {
	project := os.Getenv("DESILO_BQ_PROJECT")
	creds := os.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
	if creds == "" {
		if home, err := os.UserHomeDir(); err == nil {
			adc := filepath.Join(home, ".config", "gcloud", "application_default_credentials.json")
			if _, err := os.Stat(adc); err == nil {
				creds = adc
			}
		}
	}
	if project == "" || creds == "" {
		t.Skip("live BigQuery test skipped: set DESILO_BQ_PROJECT and GOOGLE_APPLICATION_CREDENTIALS (or run gcloud auth application-default login); see CONTRIBUTING.md")
	}
	loc := os.Getenv("DESILO_BQ_LOCATION")
	if loc == "" {
		loc = "EU"
	}
	return config.BigQuery{Project: project, Dataset: "desilo_live_" + strings.ToLower(rand.Text()[:10]), Location: loc, TablePrefix: "t_"}
}

// TestLivePublish publishes a sample snapshot twice to a new dataset of
// the real BigQuery, checks the rows with queries, and drops the dataset.
func TestLivePublish(t *testing.T) {
	cfg := liveConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	client, err := NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	t.Cleanup(func() {
		if err := client.Dataset(cfg.Dataset).DeleteWithContents(context.Background()); err != nil {
			t.Errorf("drop dataset %s: %v", cfg.Dataset, err)
		}
	})
	for i, rows := range []int{5, 3} {
		dir, m := writeSnapshot(t, t.TempDir(), "live"+strings.Repeat("x", i), rows, 0)
		res, err := Publish(ctx, cfg, dir, m, Options{})
		if err != nil {
			t.Fatalf("publish %d: %v", i+1, err)
		}
		for _, tr := range res.Tables {
			if !tr.Replaced || tr.Rows != int64(rows) || tr.Created != (i == 0) {
				t.Errorf("publish %d: %+v", i+1, tr)
			}
			q := client.Query("SELECT COUNT(*) FROM `" + cfg.Project + "." + cfg.Dataset + "." + tr.Target + "`")
			it, err := q.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var count []bq.Value
			if err := it.Next(&count); err != nil {
				t.Fatal(err)
			}
			if count[0] != int64(rows) {
				t.Errorf("publish %d: %s has %v rows, want %d", i+1, tr.Target, count[0], rows)
			}
		}
	}
	// Lists arrive as REPEATED columns with their items.
	q := client.Query("SELECT SUM(ARRAY_LENGTH(emails)) FROM `" + cfg.Project + "." + cfg.Dataset + ".t_customer`")
	it, err := q.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sum []bq.Value
	if err := it.Next(&sum); err != nil {
		t.Fatal(err)
	}
	var want int64
	for i := range 3 {
		want += int64((i + len("livex")) % 3)
	}
	if sum[0] != want {
		t.Errorf("emails items: %v, want %d", sum[0], want)
	}
	tables := client.Dataset(cfg.Dataset).Tables(ctx)
	n := 0
	for {
		tb, err := tables.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tb.TableID, "__staging_") {
			t.Errorf("staging table %s left", tb.TableID)
		}
		n++
	}
	if n != len(model.Outputs) {
		t.Errorf("%d tables in the dataset, want %d", n, len(model.Outputs))
	}
}
