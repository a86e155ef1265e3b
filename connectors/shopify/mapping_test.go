package shopify

import (
	"testing"

	"github.com/desilo/desilo/core/mapping"
)

// TestDefaultMappings compiles every default mapping with core/mapping and
// maps every record a read of the fake shop emits: none may be rejected.
func TestDefaultMappings(t *testing.T) {
	f, srv := newFakeShop(t)
	seedShop(f)
	s := testSource(&sleepRecorder{})
	config := testConfig(t, srv.URL, nil)
	streams, err := s.Discover(t.Context(), config)
	if err != nil {
		t.Fatal(err)
	}
	c, err := readStreams(t, s, config, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		plan, err := mapping.Default(st, nil)
		if err != nil {
			t.Fatalf("stream %s: %v", st.Name, err)
		}
		row := make([]any, len(plan.Table().Columns))
		recs := c.Stream(st.Name)
		if len(recs) == 0 {
			t.Fatalf("stream %s: no records to map", st.Name)
		}
		for _, r := range recs {
			if err := plan.Map("shop", r, row); err != nil {
				t.Errorf("stream %s: %v\n%s", st.Name, err, r.Data)
				break
			}
		}
	}
}
