package mapping

import (
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
)

// TestMemberLookup covers how the scanner finds the members a plan reads:
// names of equal length, names longer than maxShortName (looked up in the
// map), escaped names in the record, and names that only share a prefix.
func TestMemberLookup(t *testing.T) {
	long := strings.Repeat("x", maxShortName) + "y"
	m := connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
		"first_name": connector.P("ab"),
		"last_name":  connector.P("ba"),
		"email":      connector.P(long),
		"city":       connector.P(strings.Repeat("x", maxShortName-1)),
		"company":    connector.P("a.b"),
	}}
	p, err := Compile(connector.Stream{Name: "s", PrimaryKey: []string{"id"}}, m)
	if err != nil {
		t.Fatal(err)
	}
	data := `{"id":1,"abc":"no","b":"no","\u0061b":"A","ba":"B","` + long + `":"E","` + long + `z":"no",` +
		`"` + strings.Repeat("x", maxShortName-1) + `":"C","a":{"a":"no","b":"N"},"` + strings.Repeat("x", maxShortName) + `":"no"}`
	row := make([]any, len(p.Table().Columns))
	if err := p.Map("src", connector.Record{Data: []byte(data)}, row); err != nil {
		t.Fatal(err)
	}
	for col, want := range map[string]string{"first_name": "A", "last_name": "B", "email": "E", "city": "C", "company": "N"} {
		i, _ := p.Table().Index(col)
		if row[i] != want {
			t.Errorf("%s = %v, want %q", col, row[i], want)
		}
	}
}
