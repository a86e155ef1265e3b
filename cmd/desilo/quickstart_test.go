package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuickstart runs what the README tells a new user to run, on a copy
// of examples/quickstart, and holds match quality to a floor: a change that
// worsens matching fails here. The README quotes these figures.
func TestQuickstart(t *testing.T) {
	dir := copyDir(t, "../../examples/quickstart")
	cfg := filepath.Join(dir, "desilo.yaml")
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	// The README's explained customer was joined across all four silos.
	code, out, errOut := desilo(t, "explain", "-c", cfg, "birgit.seidel76@briefwerk.de")
	if code != 0 || !strings.Contains(out, "sources                    crm, helpdesk, mail, shop") || !strings.Contains(out, "14 records") {
		t.Fatalf("explain: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = desilo(t, "eval", "-c", cfg, "--truth", filepath.Join(dir, "truth.csv"), "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s", code, errOut)
	}
	var r struct {
		Precision, Recall float64
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	if r.Precision < 0.99 || r.Recall < 0.95 {
		t.Fatalf("match quality fell below the floor: precision %.4f (≥ 0.99), recall %.4f (≥ 0.95)", r.Precision, r.Recall)
	}
	t.Logf("precision %.4f, recall %.4f", r.Precision, r.Recall)
}
