package bigquery

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestSchemaGolden pins the BigQuery schema and default layout derived
// for every model table; run with -update after changing schema/.
func TestSchemaGolden(t *testing.T) {
	for _, name := range model.Outputs {
		t.Run(name, func(t *testing.T) {
			tb := model.MustLoad(name)
			var b strings.Builder
			l, err := TableLayout(config.BigQuery{}, tb)
			if err != nil {
				t.Fatal(err)
			}
			if l.Partitioning != nil {
				fmt.Fprintf(&b, "partitioning: %s(%s)\n", l.Partitioning.Type, l.Partitioning.Field)
			}
			if len(l.Clustering) > 0 {
				fmt.Fprintf(&b, "clustering: %s\n", strings.Join(l.Clustering, ", "))
			}
			for _, f := range Schema(tb) {
				fmt.Fprintf(&b, "%-26s %-9s %-8s %s\n", f.Name, f.Type, mode(f), f.Description)
			}
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("schema of %s changed; if intended, run go test -update:\ngot:\n%s\nwant:\n%s", name, b.String(), want)
			}
		})
	}
}
