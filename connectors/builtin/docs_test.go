package builtin

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/specdoc"
)

var update = flag.Bool("update", false, "rewrite docs/connectors.md from the connectors' config schemas")

const docsFile = "../../docs/connectors.md"

// TestConnectorDocs keeps docs/connectors.md generated from each built-in
// connector's config schema, so the docs cannot drift from what the
// connectors accept. After changing a schema:
//
//	go test ./connectors/builtin -run TestConnectorDocs -update
func TestConnectorDocs(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Built-in connectors\n\n" +
		"Generated from each connector's config schema by\n" +
		"`go test ./connectors/builtin -run TestConnectorDocs -update`; do not edit by hand.\n" +
		"`desilo connector spec NAME` prints the same for any connector, third-party ones included.\n\n")
	for _, name := range Names() {
		c, _ := Get(name)
		spec := c.Spec()
		if spec.Name != name {
			t.Errorf("connector registered as %q calls itself %q", name, spec.Name)
		}
		md, err := specdoc.Markdown(spec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b.WriteString(md + "\n")
	}
	if *update {
		if err := os.MkdirAll("../../docs", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docsFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != b.String() {
		t.Fatalf("%s is out of date: run go test ./connectors/builtin -run TestConnectorDocs -update", docsFile)
	}
}
