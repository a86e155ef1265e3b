package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/sink/parquet"
)

// gen writes silos that validate and sync offline; eval then finds the
// people behind them.
func TestGenSyncEval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := desilo(t, "gen", "--people", "300", "--seed", "7", "--out", dir)
	if code != 0 || !strings.Contains(out, "wrote 300 people") || !strings.Contains(out, "crm/contacts") {
		t.Fatalf("gen: exit %d\n%s%s", code, out, errOut)
	}
	cfg := filepath.Join(dir, "desilo.yaml")
	if code, out, errOut := desilo(t, "validate", "-c", cfg); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errOut)
	}
	summary := filepath.Join(dir, "summary.json")
	if code, _, errOut := desilo(t, "sync", "-c", cfg, "--summary-json", summary); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	var sum struct {
		OK      bool
		Sources []struct {
			Name    string
			Records int
			Rejects int
		}
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	offline := 0
	for _, s := range sum.Sources {
		if s.Rejects != 0 || s.Records == 0 {
			t.Errorf("source %s: %d records, %d rejects", s.Name, s.Records, s.Rejects)
		}
		offline += s.Records
	}
	if !sum.OK || len(sum.Sources) != 4 {
		t.Fatalf("summary: %s", b)
	}

	truth := filepath.Join(dir, "truth.csv")
	code, out, errOut = desilo(t, "eval", "-c", cfg, "--truth", truth, "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s%s", code, out, errOut)
	}
	var rep struct {
		Records, People, Customers int
		MissingFromSnapshot        int            `json:"missing_from_snapshot"`
		NotInTruth                 int            `json:"not_in_truth"`
		TruthOnly                  map[string]int `json:"truth_only"`
		Precision, Recall, F1      float64
	}
	rep.MissingFromSnapshot, rep.NotInTruth = -1, -1
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	// Every record synced is in the truth; the truth's WooCommerce records
	// are not in the offline config and are reported as missing.
	if rep.Records != offline || rep.NotInTruth != 0 || rep.People != 300 {
		t.Errorf("compared %d records of %d people (%d not in the truth), synced %d", rep.Records, rep.People, rep.NotInTruth, offline)
	}
	if rep.MissingFromSnapshot == 0 || rep.MissingFromSnapshot != rep.TruthOnly["woocommerce/customers"]+rep.TruthOnly["woocommerce/orders"] || len(rep.TruthOnly) != 2 {
		t.Errorf("missing from the snapshot: %d, %v", rep.MissingFromSnapshot, rep.TruthOnly)
	}
	// Key matching finds most people but not all: the noise sees to that.
	if rep.Precision < 0.95 || rep.Recall < 0.9 || rep.Recall == 1 || rep.Customers <= rep.People-5 {
		t.Errorf("precision %.4f, recall %.4f, %d customers for %d people", rep.Precision, rep.Recall, rep.Customers, rep.People)
	}

	// --snapshot takes an output folder or a snapshot folder, no config.
	snap, _, err := parquet.Current(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{filepath.Join(dir, "out"), snap} {
		code, text, errOut := desilo(t, "eval", "--snapshot", s, "--truth", truth, "-c", filepath.Join(dir, "nonexistent.yaml"))
		if code != 0 || !strings.Contains(text, "precision") || !strings.Contains(text, "woocommerce/orders") {
			t.Errorf("eval --snapshot %s: exit %d\n%s%s", s, code, text, errOut)
		}
	}
}

func TestGenEvalUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"gen", "--people", "10"}, exitUsage, "--out is required"},
		{[]string{"gen", "--out", dir, "--typo", "1.5"}, exitUsage, "typo: 1.5"},
		{[]string{"gen", "--out", dir, "--people", "0"}, exitUsage, "people: 0"},
		{[]string{"eval", "--snapshot", dir}, exitUsage, "--truth is required"},
		{[]string{"eval", "--snapshot", dir, "--truth", filepath.Join(dir, "missing.csv")}, exitUsage, "missing.csv"},
	} {
		code, _, errOut := desilo(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", tc.args, code, tc.code, tc.msg, errOut)
		}
	}
}

// A rate out of range is named as its flag.
func TestGenNamesTheFlagOutOfRange(t *testing.T) {
	code, _, errOut := desilo(t, "gen", "--out", t.TempDir(), "--crm-rate", "2")
	if code != exitUsage || !strings.Contains(errOut, "--crm-rate: 2, want a rate from 0 to 1") {
		t.Errorf("exit %d, want %d naming --crm-rate\n%s", code, exitUsage, errOut)
	}
}
