package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
)

// A limit names an external id (ids.<id>), as desilo.yaml documents it,
// whether or not a key matches by that id.
func TestRulesLimitOnAnExternalID(t *testing.T) {
	for _, tc := range []struct{ name, keys string }{
		{"no key reads the id", "    - {name: email}\n"},
		{"a key reads the id", "    - {name: email}\n    - {name: crm, field: ids.hubspot_contact_id}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte("version: 1\nsources: []\nidentity:\n  keys:\n" + tc.keys + "  limits:\n    - {id: hubspot_contact_id, max_per_customer: 1}\n")
			c, err := config.Parse("desilo.yaml", data, t.TempDir())
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			rec := func(key, email, hubspot string) identity.Record {
				return identity.Record{Source: "crm", Stream: "contacts", Key: key, Entity: "customer",
					Fields: map[string][]string{"email": {email}, "ids.hubspot_contact_id": {hubspot}}}
			}
			res, err := identity.Resolve(context.Background(), []identity.Record{
				rec("1", "jane@acme.org", "101"), rec("2", "jane@acme.org", "102"), rec("3", "jane@acme.org", "101"),
			}, Rules(c), nil)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if res.Counts.Customers != 2 || res.Counts.Refused != 1 {
				t.Errorf("%d customers, %d refusals; want 2 and 1 (record 2 would add a second hubspot id)", res.Counts.Customers, res.Counts.Refused)
			}
		})
	}
}

// A record's seen time is its created_at alone: updated_at moves when
// the record is edited, and the anchor of its cluster must not.
func TestSeenIsCreatedAtOnly(t *testing.T) {
	tb := model.MustLoad("customer_record")
	set := rowset.New(tb)
	row := make([]any, len(tb.Columns))
	for i, c := range tb.Columns {
		switch c.Name {
		case "source", "stream", "record_key":
			row[i] = "x"
		case "updated_at":
			row[i] = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	if err := set.Append(row); err != nil {
		t.Fatal(err)
	}
	created, _ := tb.Index("created_at")
	if got := seen(set, 0, created); !got.IsZero() {
		t.Errorf("seen without created_at = %v, want unknown", got)
	}
}
