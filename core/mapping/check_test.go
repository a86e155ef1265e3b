package mapping

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/plugins/connector"
)

// testSchema uses keywords check enforces itself and keywords it leaves to
// the schema library.
const testSchema = `{
  "type": "object",
  "properties": {
    "source": {"type": "string", "minLength": 1, "x-desilo-system": true},
    "stream": {"type": "string", "minLength": 1, "x-desilo-system": true},
    "record_key": {"type": "string", "minLength": 1, "x-desilo-system": true},
    "code": {"type": ["string", "null"], "anyOf": [{"pattern": "^A"}, {"pattern": "^B"}]},
    "qty": {"type": ["integer", "null"], "multipleOf": 5},
    "ratio": {"type": ["number", "null"], "exclusiveMaximum": 1},
    "tags": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 3}, "maxItems": 2},
    "kv": {"type": ["object", "null"], "additionalProperties": {"type": "string", "enum": ["x", "y"]}},
    "day": {"type": ["string", "null"], "format": "date", "not": {"const": "2000-01-01"}},
    "name": {"type": "string", "minLength": 2}
  },
  "required": ["source", "stream", "record_key", "name"]
}`

func testPlan(t *testing.T, fields map[string]connector.Expr) (*Plan, error) {
	t.Helper()
	table, err := model.FromSchema("t", []byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource("t.json", strings.NewReader(testSchema)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("t.json")
	if err != nil {
		t.Fatal(err)
	}
	return compile(connector.Stream{Name: "s", PrimaryKey: []string{"id"}}, connector.Mapping{Entity: "t", Fields: fields}, table, sch)
}

func TestChecksBeyondTheModel(t *testing.T) {
	p, err := testPlan(t, map[string]connector.Expr{
		"code": connector.P("code"), "qty": connector.P("qty"), "ratio": connector.P("ratio"),
		"tags": connector.P("tags"), "kv.a": connector.P("a"), "kv.b": connector.P("b"),
		"day": connector.P("day"), "name": connector.P("name"),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		data   string
		reject string
	}{
		{`{"id":1,"name":"ok","code":"A1","qty":10,"ratio":0.5,"tags":["ab","cd"],"a":"x","day":"2000-01-02"}`, ""},
		{`{"id":1,"name":"o"}`, `name: "o" is shorter than 2 characters`},
		{`{"id":1}`, "name: required, but the record has no value for it"},
		{`{"id":1,"name":"ok","code":"C1"}`, "code: does not validate against the schema"},
		{`{"id":1,"name":"ok","qty":7}`, "qty: does not validate against the schema"},
		{`{"id":1,"name":"ok","ratio":1}`, "ratio: 1 is above the maximum 1"},
		{`{"id":1,"name":"ok","tags":["abcd"]}`, `tags: item "abcd" is longer than 3 characters`},
		{`{"id":1,"name":"ok","tags":["a","b","c"]}`, "tags: has 3 items, more than 2"},
		{`{"id":1,"name":"ok","a":"x","b":"z"}`, `kv: b: "z" is not one of x, y`},
		{`{"id":1,"name":"ok","day":"2000-01-01"}`, "day: does not validate against the schema"},
	}
	for _, tt := range tests {
		row := make([]any, len(p.Table().Columns))
		err := p.Map("src", connector.Record{Data: []byte(tt.data)}, row)
		var re *RejectError
		switch {
		case tt.reject == "" && err != nil:
			t.Errorf("%s: %v", tt.data, err)
		case tt.reject != "" && (!errors.As(err, &re) || !strings.HasPrefix(re.Reason, tt.reject)):
			t.Errorf("%s: got %v, want a reject starting %q", tt.data, err, tt.reject)
		}
	}
	// A constant is checked once, at compile time, by the library too.
	if _, err := testPlan(t, map[string]connector.Expr{"name": connector.P("n"), "qty": {Const: 3}}); err == nil ||
		!strings.Contains(err.Error(), "mapping s.qty: const: does not validate against the schema") {
		t.Errorf("const 3 for a multiple of 5: %v", err)
	}
}

// TestConcurrentMap maps the same records from several goroutines (run
// with -race) and expects the rows of a sequential run.
func TestConcurrentMap(t *testing.T) {
	p, err := Compile(connector.Stream{Name: "contacts", PrimaryKey: []string{"id"}}, contactMapping)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for _, s := range []string{string(contact), `{"id":"2","properties":{"email":"B@x"},"updatedAt":"bad"}`, `{"id":"3","properties":{"firstname":"\u00c4"}}`} {
		recs = append(recs, []byte(s))
	}
	want := make([][]any, len(recs))
	for i, r := range recs {
		want[i] = make([]any, len(p.Table().Columns))
		_ = p.Map("crm", connector.Record{Data: r}, want[i])
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			row := make([]any, len(p.Table().Columns))
			for n := 0; n < 300; n++ {
				i := n % len(recs)
				err := p.Map("crm", connector.Record{Data: recs[i]}, row)
				if err == nil && !reflect.DeepEqual(row, want[i]) {
					t.Errorf("record %d: %v, want %v", i, row, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}
