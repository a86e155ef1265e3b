package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/connector"
)

func TestCompileErrors(t *testing.T) {
	stream := connector.Stream{Name: "contacts", PrimaryKey: []string{"id"}}
	f := func(entity string, fields map[string]connector.Expr) connector.Mapping {
		return connector.Mapping{Entity: entity, Fields: fields}
	}
	tests := []struct {
		name string
		m    connector.Mapping
		want []string // every line of the error
	}{
		{"unknown entity", f("contact", nil), []string{`mapping contacts: unknown entity "contact" (want one of customer, event, message, order, ticket)`}},
		{"unknown field with suggestion", f("customer", map[string]connector.Expr{"emial": connector.P("e")}),
			[]string{`mapping contacts.emial: unknown target field "emial" (did you mean "email"?)`}},
		{"unknown field without suggestion", f("customer", map[string]connector.Expr{"shoe_size": connector.P("e")}),
			[]string{`mapping contacts.shoe_size: unknown target field "shoe_size"`}},
		{"system field", f("customer", map[string]connector.Expr{"customer_id": connector.P("e")}),
			[]string{`mapping contacts.customer_id: customer_id is filled by desilo and cannot be mapped`}},
		{"record_key", f("order", map[string]connector.Expr{"record_key": connector.P("e")}),
			[]string{`mapping contacts.record_key: record_key is filled by desilo and cannot be mapped`}},
		{"ids whole", f("customer", map[string]connector.Expr{"ids": connector.P("e")}),
			[]string{`mapping contacts.ids: map each of ids by name: ids.<name>`}},
		{"ids bad name", f("customer", map[string]connector.Expr{"ids.a=b": connector.P("e")}),
			[]string{`mapping contacts.ids.a=b: "a=b" is not a valid name for ids (non-empty, without '=')`}},
		{"dotted non-ids", f("customer", map[string]connector.Expr{"email.x": connector.P("e")}),
			[]string{`mapping contacts.email.x: unknown target field "email.x" (did you mean "email"?)`}},
		{"no source", f("customer", map[string]connector.Expr{"email": {}}),
			[]string{`mapping contacts.email: expression needs one of path, coalesce, concat or const`}},
		{"two sources", f("customer", map[string]connector.Expr{"email": {Path: "a", Const: "b"}}),
			[]string{`mapping contacts.email: expression may have only one of path, coalesce, concat and const`}},
		{"bad path", f("customer", map[string]connector.Expr{"email": connector.P("a..b")}),
			[]string{`mapping contacts.email: path "a..b" has an empty segment`}},
		{"nested bad path", f("customer", map[string]connector.Expr{"email": {Coalesce: []connector.Expr{connector.P("a"), connector.P("b[")}}}),
			[]string{`mapping contacts.email: coalesce[1]: path "b[": '[' must be followed by ']' (write \[ for a literal bracket)`}},
		{"empty coalesce", f("customer", map[string]connector.Expr{"email": {Coalesce: []connector.Expr{}}}),
			[]string{`mapping contacts.email: coalesce needs at least one expression`}},
		{"sep without concat", f("customer", map[string]connector.Expr{"email": {Path: "a", Sep: " "}}),
			[]string{`mapping contacts.email: sep applies only to concat`}},
		{"unknown type", f("customer", map[string]connector.Expr{"updated_at": {Path: "a", Type: "datetime"}}),
			[]string{`mapping contacts.updated_at: unknown type "datetime" (want one of boolean, date, integer, money_minor, number, string, timestamp)`}},
		{"type mismatch", f("customer", map[string]connector.Expr{"email": {Path: "a", Type: "integer"}}),
			[]string{`mapping contacts.email: type integer cannot fill a string field`}},
		{"money into integer", f("order", map[string]connector.Expr{"items_count": {Path: "a", Type: "money_minor"}}),
			[]string{`mapping contacts.items_count: type money_minor cannot fill a integer field`}},
		{"list into scalar", f("customer", map[string]connector.Expr{"email": connector.P("emails[].value")}),
			[]string{`mapping contacts.email: the expression yields a list (its path has "[]"), but the field holds one value`}},
		{"layout on a string", f("customer", map[string]connector.Expr{"email": {Path: "a", Layout: "2006"}}),
			[]string{`mapping contacts.email: layout "2006" applies only to type timestamp or date`}},
		{"layout typo", f("customer", map[string]connector.Expr{"updated_at": {Path: "a", Layout: "YYYY-MM-DD hh:mm"}}),
			[]string{`mapping contacts.updated_at: layout "YYYY-MM-DD hh:mm" does not hold a full date (Go layouts use the reference time 2006-01-02 15:04:05, e.g. "02.01.2006 15:04")`}},
		{"zone abbreviation in a layout", f("customer", map[string]connector.Expr{"updated_at": {Path: "a", Layout: "2006-01-02 15:04 MST"}}),
			[]string{`mapping contacts.updated_at: layout "2006-01-02 15:04 MST" reads a zone abbreviation (MST), whose offset Go can only guess; use a numeric offset (-0700 or Z07:00)`}},
		{"timestamp layout without hour", f("customer", map[string]connector.Expr{"updated_at": {Path: "a", Layout: "02.01.2006"}}),
			[]string{`mapping contacts.updated_at: layout "02.01.2006" has no hour; use type: date for dates`}},
		{"scale without money", f("order", map[string]connector.Expr{"total": {Path: "a", Scale: 3}}),
			[]string{`mapping contacts.total: scale applies only to type money_minor`}},
		{"negative scale", f("order", map[string]connector.Expr{"total": {Path: "a", Type: "money_minor", Scale: -1}}),
			[]string{`mapping contacts.total: scale -1 is outside 0..18`}},
		{"const object", f("customer", map[string]connector.Expr{"email": {Const: map[string]any{}}}),
			[]string{`mapping contacts.email: const must be a string, number or boolean, not map[string]interface {}`}},
		{"const not convertible", f("order", map[string]connector.Expr{"items_count": {Const: "many"}}),
			[]string{`mapping contacts.items_count: const: "many" is not an integer`}},
		{"const breaks enum", f("ticket", map[string]connector.Expr{"status": {Const: "new"}}),
			[]string{`mapping contacts.status: const: "new" is not one of open, pending, solved, closed (translate source values with values)`}},
		{"list of non-strings unsupported is not reached; required missing", f("event", map[string]connector.Expr{"email": connector.P("e")}),
			[]string{`mapping contacts.type: event requires type, and the mapping does not set it`}},
		{"no fields", f("customer", nil), []string{`mapping contacts: the mapping has no fields`}},
		{"all problems at once, by field", f("customer", map[string]connector.Expr{"zzz": connector.P("a"), "email": {}, "birth_date": {Path: "b", Type: "boolean"}}),
			[]string{
				`mapping contacts.birth_date: type boolean cannot fill a date field`,
				`mapping contacts.email: expression needs one of path, coalesce, concat or const`,
				`mapping contacts.zzz: unknown target field "zzz"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(stream, tt.m)
			if err == nil {
				t.Fatalf("Compile succeeded (%v), want an error", p)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("error:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Stream != "contacts" {
				t.Errorf("error %v carries no *FieldError for the stream", err)
			}
		})
	}
}

// A path reading a field the stream's records cannot have (a CSV column
// that is not in the header) would map null into every record, in
// silence; where the schema leaves records open (an API's custom
// properties), any path may be right.
func TestPathToAFieldTheRecordsLack(t *testing.T) {
	closed := `{"type":"object","properties":{"E-Mail":{},"Telefon":{},"Kunde":{}},"additionalProperties":false}`
	tests := []struct {
		name   string
		schema string
		fields map[string]connector.Expr
		want   string // the error; "" when it compiles
	}{
		{"typo of a column", closed, map[string]connector.Expr{"email": connector.P("EMail")},
			`mapping contacts.email: path "EMail": the stream's records have no field "EMail" (did you mean "E-Mail"?)`},
		{"nothing close", closed, map[string]connector.Expr{"email": connector.P("mail_address")},
			`mapping contacts.email: path "mail_address": the stream's records have no field "mail_address" (desilo discover lists the fields)`},
		{"inside coalesce", closed, map[string]connector.Expr{"phone": {Coalesce: []connector.Expr{connector.P("Telefon"), connector.P("Mobil.nummer")}}},
			`mapping contacts.phone: path "Mobil.nummer": the stream's records have no field "Mobil" (desilo discover lists the fields)`},
		{"columns present", closed, map[string]connector.Expr{"email": connector.P("E-Mail"), "full_name": {Concat: []connector.Expr{connector.P("Kunde"), {Const: "x"}}}}, ""},
		{"open schema", `{"type":"object","properties":{"email":{}}}`, map[string]connector.Expr{"email": connector.P("properties.email")}, ""},
		{"additional properties typed", `{"type":"object","properties":{"email":{}},"additionalProperties":{"type":"string"}}`, map[string]connector.Expr{"email": connector.P("mail")}, ""},
		{"no schema", ``, map[string]connector.Expr{"email": connector.P("anything")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := connector.Stream{Name: "contacts", Schema: []byte(tt.schema)}
			_, err := Compile(stream, connector.Mapping{Entity: "customer", Fields: tt.fields})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Compile: %v, want no error", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("Compile: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestDefault(t *testing.T) {
	def := &connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{"email": connector.P("email")}}
	user := &connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{"email": connector.P("mail")}}
	data := []byte(`{"id":1,"email":"default@x","mail":"user@x"}`)
	tests := []struct {
		name     string
		def      *connector.Mapping
		override *connector.Mapping
		want     string
	}{
		{"stream default", def, nil, "default@x"},
		{"user mapping wins", def, user, "user@x"},
		{"user mapping without default", nil, user, "user@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Default(connector.Stream{Name: "c", PrimaryKey: []string{"id"}, Mapping: tt.def}, tt.override)
			if err != nil {
				t.Fatal(err)
			}
			if p.Stream() != "c" || p.Entity() != "customer" {
				t.Errorf("plan of %s/%s, want c/customer", p.Stream(), p.Entity())
			}
			row := make([]any, len(p.Table().Columns))
			if err := p.Map("s", connector.Record{Data: data}, row); err != nil {
				t.Fatal(err)
			}
			i, _ := p.Table().Index("email")
			if row[i] != tt.want {
				t.Errorf("email = %v, want %s", row[i], tt.want)
			}
		})
	}
	_, err := Default(connector.Stream{Name: "c"}, nil)
	const want = "mapping c: the connector has no default mapping for this stream; give one under the source's mapping in desilo.yaml"
	if err == nil || err.Error() != want {
		t.Errorf("without any mapping: %v, want %q", err, want)
	}
}

func TestRecordKey(t *testing.T) {
	m := connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{"email": connector.P("e")}}
	tests := []struct {
		name   string
		pk     []string
		data   string
		want   string
		reject string
	}{
		{"string", []string{"id"}, `{"id":"c-17"}`, "c-17", ""},
		{"number literal", []string{"id"}, `{"id":17}`, "17", ""},
		{"boolean", []string{"id"}, `{"id":false}`, "false", ""},
		{"dotted top-level name", []string{"a.b"}, `{"a.b":"x","a":{"b":"y"}}`, "x", ""},
		{"composite", []string{"shop", "id"}, `{"id":7,"shop":"de"}`, "de|7", ""},
		{"composite escaped", []string{"a", "b"}, `{"a":"x|y","b":"z\\"}`, `x\|y|z\\`, ""},
		{"composite unescaped form differs", []string{"a", "b"}, `{"a":"x","b":"y|z"}`, `x|y\|z`, ""},
		{"no primary key: content hash", nil, `{"e":"a"}`, "3edd436f9ec9b5bfd151916ff6dc5fc8", ""},
		{"missing", []string{"id"}, `{"e":"a"}`, "", `primary key field "id" is missing or empty`},
		{"empty", []string{"id"}, `{"id":""}`, "", `primary key field "id" is missing or empty`},
		{"composite part missing", []string{"a", "b"}, `{"a":"x"}`, "", `primary key field "b" is missing or empty`},
		{"object", []string{"id"}, `{"id":{"x":1}}`, "", `primary key field "id" is an object, not a single value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile(connector.Stream{Name: "c", PrimaryKey: tt.pk}, m)
			if err != nil {
				t.Fatal(err)
			}
			row := make([]any, len(p.Table().Columns))
			err = p.Map("s", connector.Record{Data: []byte(tt.data)}, row)
			if tt.reject != "" {
				var re *RejectError
				if !errors.As(err, &re) || re.Reason != tt.reject {
					t.Fatalf("got %v, want reject %q", err, tt.reject)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if i, _ := p.Table().Index("record_key"); row[i] != tt.want {
				t.Errorf("record_key = %#v, want %q", row[i], tt.want)
			}
		})
	}
}

func TestDeleted(t *testing.T) {
	m := connector.Mapping{Entity: "event", Fields: map[string]connector.Expr{"type": connector.P("t"), "email": connector.P("e")}}
	p, err := Compile(connector.Stream{Name: "ev", PrimaryKey: []string{"id"}}, m)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, len(p.Table().Columns))
	for i := range row {
		row[i] = "stale" // Map must clear what a previous record left
	}
	// The required type is absent, which is fine for a deletion.
	if err := p.Map("src", connector.Record{Stream: "ev", Deleted: true, Data: []byte(`{"id":5,"e":"x@y"}`)}, row); err != nil {
		t.Fatal(err)
	}
	for i, c := range p.Table().Columns {
		want := map[string]any{"source": "src", "stream": "ev", "record_key": "5"}[c.Name]
		if row[i] != want {
			t.Errorf("%s = %#v, want %#v", c.Name, row[i], want)
		}
	}
	err = p.Map("src", connector.Record{Deleted: true, Data: []byte(`{"e":"x@y"}`)}, row)
	if re := (*RejectError)(nil); !errors.As(err, &re) {
		t.Errorf("deleted record without a key: %v, want a reject", err)
	}
}

func TestMapCallerErrors(t *testing.T) {
	m := connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{"email": connector.P("e")}}
	p, err := Compile(connector.Stream{Name: "c", PrimaryKey: []string{"id"}}, m)
	if err != nil {
		t.Fatal(err)
	}
	ok := make([]any, len(p.Table().Columns))
	tests := []struct {
		name   string
		source string
		rec    connector.Record
		row    []any
		want   string
		reject bool
	}{
		{"short row", "s", connector.Record{Data: []byte(`{"id":1}`)}, make([]any, 3), "mapping c: row has 3 values, table customer_record has 24 columns", false},
		{"other stream", "s", connector.Record{Stream: "d", Data: []byte(`{"id":1}`)}, ok, `mapping c: record of stream "d"`, false},
		{"no source", "", connector.Record{Data: []byte(`{"id":1}`)}, ok, "mapping c: empty source name", false},
		{"invalid JSON", "s", connector.Record{Data: []byte(`{"id":1,}`)}, ok, "record rejected: invalid JSON at byte 8: expected a member name", true},
		{"not an object", "s", connector.Record{Data: []byte(`[1]`)}, ok, "record rejected: invalid JSON at byte 0: a record must be a JSON object", true},
		{"trailing data", "s", connector.Record{Data: []byte(`{"id":1} {}`)}, ok, "record rejected: invalid JSON at byte 9: data after the record's closing '}'", true},
		{"empty", "s", connector.Record{}, ok, "record rejected: invalid JSON at byte 0: a record must be a JSON object", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Map(tt.source, tt.rec, tt.row)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			var re *RejectError
			if errors.As(err, &re) != tt.reject {
				t.Errorf("reject = %v, want %v", !tt.reject, tt.reject)
			}
		})
	}
}

func TestParsePath(t *testing.T) {
	k := func(key string) step { return step{key: key, index: -1} }
	ix := func(key string, i int) step { return step{key: key, index: i} }
	each := step{index: -1, each: true}
	tests := []struct {
		path string
		want []step
		err  string
	}{
		{"a", []step{k("a")}, ""},
		{"a.b.c", []step{k("a"), k("b"), k("c")}, ""},
		{"a.0.b", []step{k("a"), ix("0", 0), k("b")}, ""},
		{"a.012", []step{k("a"), k("012")}, ""},
		{"a[].b", []step{k("a"), each, k("b")}, ""},
		{"a[]", []step{k("a"), each}, ""},
		{"a[][].b", []step{k("a"), each, each, k("b")}, ""},
		{`a\.b`, []step{k("a.b")}, ""},
		{`a\[\]`, []step{k("a[]")}, ""},
		{`\0`, []step{k("0")}, ""},
		{"Geändert", []step{k("Geändert")}, ""},
		{"", nil, `path "" is empty or ends in '.'`},
		{"a.", nil, `path "a." is empty or ends in '.'`},
		{".a", nil, `path ".a" has an empty segment`},
		{"[]", nil, `path "[]": "[]" must follow a field name`},
		{"a.[]", nil, `path "a.[]": "[]" must follow a field name`},
		{"a[]b", nil, `path "a[]b": "[]" must be followed by '.', another "[]" or the end`},
		{"a[0]", nil, `path "a[0]": '[' must be followed by ']' (write \[ for a literal bracket)`},
		{"a]", nil, `path "a]": unexpected ']' (write \] for a literal bracket)`},
		{`a\`, nil, `path "a\\" ends in a lone backslash`},
	}
	for _, tt := range tests {
		got, err := parsePath(tt.path)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parsePath(%q) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parsePath(%q) = %+v, %v; want %+v", tt.path, got, err, tt.want)
		}
	}
}
