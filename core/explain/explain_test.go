package explain

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
)

// An id absorbed through a chain of merges (c_a into c_b, c_b into c_c)
// finds today's customer, and that customer lists both as absorbed.
func TestFindFollowsAChainOfMerges(t *testing.T) {
	out := t.TempDir()
	s, err := parquet.Begin(context.Background(), out, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	write := func(table string, rows ...map[string]any) {
		t.Helper()
		w, err := s.Table(table)
		if err != nil {
			t.Fatal(err)
		}
		tb := model.MustLoad(table)
		for _, r := range rows {
			row := make([]any, len(tb.Columns))
			for i, c := range tb.Columns {
				row[i] = r[c.Name]
				switch {
				case row[i] != nil:
				case c.List:
					row[i] = []string{}
				case c.Required:
					row[i] = map[model.Type]any{model.String: "x", model.Integer: int64(0), model.Number: 0.0,
						model.Boolean: false, model.Timestamp: at, model.Date: at}[c.Type]
				}
			}
			if err := w.Write(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("customer", map[string]any{"customer_id": "c_c", "first_seen": at, "last_seen": at, "record_count": int64(1), "sources": []string{"crm"}})
	write("identity_link", map[string]any{"source": "crm", "stream": "contacts", "record_key": "1", "entity": "customer", "customer_id": "c_c", "rule": "anchor"})
	merge := func(from, to string) map[string]any {
		return map[string]any{"absorbed_id": from, "surviving_id": to, "run_id": "run-0", "merged_at": at, "reason": "joined"}
	}
	write("merge", merge("c_a", "c_b"), merge("c_b", "c_c"))
	if _, err := s.Commit(parquet.Manifest{}); err != nil {
		t.Fatal(err)
	}

	found, err := Find(out, "c_a", identity.Rules{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Profile["customer_id"] != "c_c" {
		t.Fatalf("Find(c_a) = %+v, want customer c_c", found)
	}
	if c := found[0]; !slices.Equal(c.Via, []string{"c_a", "c_b", "c_c"}) || !slices.Equal(c.Merged, []string{"c_a", "c_b"}) {
		t.Errorf("via %v, absorbed %v; want c_a c_b c_c and c_a c_b", c.Via, c.Merged)
	}
}
