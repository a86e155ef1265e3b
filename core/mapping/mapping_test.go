package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// mapField maps one record with a one-field mapping (plus whatever the
// entity requires) and returns the field's value.
func mapField(t *testing.T, entity, field string, e connector.Expr, data string) (any, error) {
	t.Helper()
	m := connector.Mapping{Entity: entity, Fields: map[string]connector.Expr{field: e}}
	if entity == "event" && field != "type" {
		m.Fields["type"] = connector.Expr{Const: "refund"}
	}
	p, err := Compile(connector.Stream{Name: "s", PrimaryKey: []string{"id"}}, m)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	row := make([]any, len(p.Table().Columns))
	if err := p.Map("src", connector.Record{Stream: "s", Data: []byte(data)}, row); err != nil {
		return nil, err
	}
	col, _, _ := strings.Cut(field, ".")
	i, _ := p.Table().Index(col)
	return row[i], nil
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestExpressions(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name          string
		entity, field string
		expr          connector.Expr
		data          string
		want          any
		reject        string // substring of the reject reason; "" means success
	}{
		// paths
		{"top-level", "customer", "email", connector.P("mail"), `{"id":1,"mail":"a@b.de"}`, "a@b.de", ""},
		{"nested", "customer", "email", connector.P("p.e.mail"), `{"id":1,"p":{"e":{"mail":"a@b.de"}}}`, "a@b.de", ""},
		{"array index", "customer", "postal_code", connector.P("addr.1.zip"), `{"id":1,"addr":[{"zip":"1"},{"zip":"2"}]}`, "2", ""},
		{"digits as member name", "customer", "postal_code", connector.P("addr.1.zip"), `{"id":1,"addr":{"1":{"zip":"9"}}}`, "9", ""},
		{"index out of range", "customer", "postal_code", connector.P("addr.5.zip"), `{"id":1,"addr":[{"zip":"1"}]}`, nil, ""},
		{"escaped dot", "customer", "street", connector.P(`Str\.`), `{"id":1,"Str.":"Hauptstr. 1"}`, "Hauptstr. 1", ""},
		{"escaped member name in record", "customer", "city", connector.P("city"), `{"id":1,"c\u0069\u0074y":"Köln"}`, "Köln", ""},
		{"unicode escapes", "customer", "city", connector.P("city"), `{"id":1,"city":"K\u00f6ln \ud83d\ude00"}`, "Köln 😀", ""},
		{"missing", "customer", "email", connector.P("nope"), `{"id":1}`, nil, ""},
		{"null", "customer", "email", connector.P("mail"), `{"id":1,"mail":null}`, nil, ""},
		{"empty string", "customer", "email", connector.P("mail"), `{"id":1,"mail":""}`, nil, ""},
		{"path through a scalar", "customer", "email", connector.P("mail.x"), `{"id":1,"mail":"a"}`, nil, ""},
		{"duplicate member: last wins", "customer", "email", connector.P("mail"), `{"id":1,"mail":"a","mail":"b"}`, "b", ""},
		{"object for a string", "customer", "email", connector.P("mail"), `{"id":1,"mail":{"x":1}}`, nil, "email: is an object, not a string"},
		{"array for a string", "customer", "email", connector.P("mail"), `{"id":1,"mail":["a"]}`, nil, "is an array"},
		{"every element", "message", "to", connector.P("to[].address"), `{"id":1,"to":[{"address":"a"},{"name":"x"},{"address":"b"}]}`, []string{"a", "b"}, ""},
		{"every element, none", "message", "to", connector.P("to[].address"), `{"id":1,"to":[]}`, nil, ""},
		{"array at a plain path fills a list", "message", "to", connector.P("to"), `{"id":1,"to":["a",null,"","b"]}`, []string{"a", "b"}, ""},
		{"scalar fills a list", "message", "cc", connector.P("cc"), `{"id":1,"cc":"a"}`, []string{"a"}, ""},
		{"nested arrays", "message", "to", connector.P("g[][]"), `{"id":1,"g":[["a","b"],["c"]]}`, []string{"a", "b", "c"}, ""},
		{"list element object", "message", "to", connector.P("to[]"), `{"id":1,"to":[{"a":1}]}`, nil, "to: is an object, not a string"},
		{"list steps per element", "message", "to", connector.Expr{Path: "to[]", Trim: true, Lower: true}, `{"id":1,"to":[" A@B.DE ","  "]}`, []string{"a@b.de"}, ""},
		// coalesce, concat, const
		{"coalesce first non-empty", "customer", "email", connector.Expr{Coalesce: []connector.Expr{connector.P("a"), connector.P("b"), connector.P("c")}}, `{"id":1,"a":"","b":"x","c":"y"}`, "x", ""},
		{"coalesce all empty", "customer", "email", connector.Expr{Coalesce: []connector.Expr{connector.P("a"), connector.P("b")}}, `{"id":1,"a":null}`, nil, ""},
		{"coalesce trimmed empty", "customer", "email", connector.Expr{Coalesce: []connector.Expr{{Path: "a", Trim: true}, connector.P("b")}}, `{"id":1,"a":"  ","b":"x"}`, "x", ""},
		{"coalesce with own layouts", "customer", "updated_at", connector.Expr{Coalesce: []connector.Expr{{Path: "ms", Type: "timestamp", Layout: "epoch_ms"}, connector.P("iso")}}, `{"id":1,"iso":"2024-01-02T03:04:05Z"}`, ts("2024-01-02T03:04:05Z"), ""},
		{"coalesce with own layouts, first", "customer", "updated_at", connector.Expr{Coalesce: []connector.Expr{{Path: "ms", Type: "timestamp", Layout: "epoch_ms"}, connector.P("iso")}}, `{"id":1,"ms":1704164645000,"iso":"x"}`, ts("2024-01-02T03:04:05Z"), ""},
		{"coalesce of lists", "message", "to", connector.Expr{Coalesce: []connector.Expr{connector.P("a[]"), connector.P("b[]")}}, `{"id":1,"a":[],"b":["x"]}`, []string{"x"}, ""},
		{"concat with sep", "customer", "full_name", connector.Expr{Concat: []connector.Expr{connector.P("f"), connector.P("m"), connector.P("l")}, Sep: " "}, `{"id":1,"f":"Ann","m":null,"l":"Lee"}`, "Ann Lee", ""},
		{"concat of numbers and lists", "customer", "street", connector.Expr{Concat: []connector.Expr{connector.P("lines[]"), connector.P("no")}, Sep: ", "}, `{"id":1,"lines":["a","","b"],"no":12}`, "a, b, 12", ""},
		{"concat all empty", "customer", "street", connector.Expr{Concat: []connector.Expr{connector.P("a")}}, `{"id":1}`, nil, ""},
		{"concat of typed parts", "customer", "street", connector.Expr{Concat: []connector.Expr{{Path: "n", Type: "integer"}, {Path: "d", Type: "date"}}, Sep: "/"}, `{"id":1,"n":"7","d":"2024-02-29"}`, "7/2024-02-29", ""},
		{"concat of an object", "customer", "street", connector.Expr{Concat: []connector.Expr{connector.P("a")}}, `{"id":1,"a":{}}`, nil, "street: is an object, not a single value"},
		{"nested concat in concat", "customer", "street", connector.Expr{Concat: []connector.Expr{connector.P("a"), {Concat: []connector.Expr{connector.P("b"), connector.P("c")}, Sep: "-"}}, Sep: " "}, `{"id":1,"a":"x","b":"y","c":"z"}`, "x y-z", ""},
		{"const string", "customer", "country", connector.Expr{Const: "DE"}, `{"id":1}`, "DE", ""},
		{"const number into integer", "order", "items_count", connector.Expr{Const: float64(3)}, `{"id":1}`, int64(3), ""},
		{"const YAML int into number", "order", "total", connector.Expr{Const: 7}, `{"id":1}`, float64(7), ""},
		{"const bool", "customer", "consent_sms", connector.Expr{Const: false}, `{"id":1}`, false, ""},
		// steps
		{"trim", "customer", "email", connector.Expr{Path: "e", Trim: true}, `{"id":1,"e":"\t a@b \n"}`, "a@b", ""},
		{"no trim without asking", "customer", "email", connector.P("e"), `{"id":1,"e":" a "}`, " a ", ""},
		{"lower unicode", "customer", "city", connector.Expr{Path: "c", Lower: true}, `{"id":1,"c":"ÖSTERREICH"}`, "österreich", ""},
		{"values", "ticket", "status", connector.Expr{Path: "s", Values: map[string]string{"2": "open", "3": "closed"}}, `{"id":1,"s":2}`, "open", ""},
		{"values after lower", "ticket", "status", connector.Expr{Path: "s", Lower: true, Values: map[string]string{"neu": "open"}}, `{"id":1,"s":"NEU"}`, "open", ""},
		{"values unlisted stays", "ticket", "priority", connector.Expr{Path: "s", Values: map[string]string{"1": "high"}}, `{"id":1,"s":"low"}`, "low", ""},
		{"values to empty", "customer", "birth_date", connector.Expr{Path: "d", Values: map[string]string{"0000-00-00": ""}}, `{"id":1,"d":"0000-00-00"}`, nil, ""},
		{"values before boolean", "customer", "consent_email", connector.Expr{Path: "c", Values: map[string]string{"Ja": "true", "Nein": "false"}}, `{"id":1,"c":"Nein"}`, false, ""},
		// strings
		{"number as string", "order", "order_number", connector.P("n"), `{"id":1,"n":1001}`, "1001", ""},
		{"bool as string", "customer", "gender", connector.P("g"), `{"id":1,"g":true}`, "true", ""},
		{"invalid UTF-8 replaced", "customer", "city", connector.P("c"), "{\"id\":1,\"c\":\"a\xffb\"}", "a\uFFFDb", ""},
		// integers
		{"integer", "order", "items_count", connector.P("n"), `{"id":1,"n":3}`, int64(3), ""},
		{"integer from string", "order", "items_count", connector.P("n"), `{"id":1,"n":" 3 "}`, int64(3), ""},
		{"integer from 3.0", "order", "items_count", connector.P("n"), `{"id":1,"n":3.0}`, int64(3), ""},
		{"integer from exponent", "order", "items_count", connector.P("n"), `{"id":1,"n":"1e3"}`, int64(1000), ""},
		{"integer fraction", "order", "items_count", connector.P("n"), `{"id":1,"n":3.5}`, nil, "items_count: number 3.5 is not an integer"},
		{"integer word", "order", "items_count", connector.P("n"), `{"id":1,"n":"three"}`, nil, `items_count: "three" is not an integer`},
		{"integer blank is empty", "order", "items_count", connector.P("n"), `{"id":1,"n":"  "}`, nil, ""},
		{"integer bool", "order", "items_count", connector.P("n"), `{"id":1,"n":true}`, nil, "is true, not an integer"},
		{"integer overflow", "order", "items_count", connector.P("n"), `{"id":1,"n":1e30}`, nil, "is not an integer"},
		{"integer below minimum", "order", "items_count", connector.P("n"), `{"id":1,"n":-1}`, nil, "items_count: -1 is below the minimum 0"},
		// numbers
		{"number", "order", "total", connector.P("t"), `{"id":1,"t":12.5}`, 12.5, ""},
		{"number from string", "order", "total", connector.P("t"), `{"id":1,"t":"-12.50"}`, -12.5, ""},
		{"number leading dot", "order", "total", connector.P("t"), `{"id":1,"t":".5"}`, 0.5, ""},
		{"number decimal comma", "order", "total", connector.P("t"), `{"id":1,"t":"12,50"}`, nil, `total: "12,50" is not a number (a decimal comma`},
		{"number NaN", "order", "total", connector.P("t"), `{"id":1,"t":"NaN"}`, nil, "is not a number"},
		{"number hex", "order", "total", connector.P("t"), `{"id":1,"t":"0x10"}`, nil, "is not a number"},
		{"number huge", "order", "total", connector.P("t"), `{"id":1,"t":"1e999"}`, nil, "not a number in range"},
		{"integer type into number", "order", "total", connector.Expr{Path: "t", Type: "integer"}, `{"id":1,"t":"12"}`, float64(12), ""},
		{"money_minor", "order", "total", connector.Expr{Path: "t", Type: "money_minor"}, `{"id":1,"t":1250}`, 12.5, ""},
		{"money_minor scale 3", "order", "total", connector.Expr{Path: "t", Type: "money_minor", Scale: 3}, `{"id":1,"t":"-1250"}`, -1.25, ""},
		{"money_minor fraction", "order", "total", connector.Expr{Path: "t", Type: "money_minor"}, `{"id":1,"t":12.5}`, nil, "money_minor wants an integer amount"},
		// booleans
		{"boolean", "customer", "consent_email", connector.P("c"), `{"id":1,"c":true}`, true, ""},
		{"boolean yes", "customer", "consent_email", connector.P("c"), `{"id":1,"c":"Yes"}`, true, ""},
		{"boolean 0", "customer", "consent_email", connector.P("c"), `{"id":1,"c":0}`, false, ""},
		{"boolean off", "customer", "consent_email", connector.P("c"), `{"id":1,"c":"OFF"}`, false, ""},
		{"boolean other", "customer", "consent_email", connector.P("c"), `{"id":1,"c":"ja"}`, nil, `consent_email: "ja" is not a boolean`},
		{"boolean 2", "customer", "consent_email", connector.P("c"), `{"id":1,"c":2}`, nil, "number 2 is not a boolean"},
		// timestamps
		{"rfc3339", "customer", "updated_at", connector.P("u"), `{"id":1,"u":"2024-01-02T03:04:05+02:00"}`, ts("2024-01-02T01:04:05Z"), ""},
		{"rfc3339 nanos", "customer", "updated_at", connector.P("u"), `{"id":1,"u":"2024-01-02T03:04:05.123456789Z"}`, ts("2024-01-02T03:04:05.123456789Z"), ""},
		{"rfc3339 space", "customer", "updated_at", connector.P("u"), `{"id":1,"u":"2024-01-02 03:04:05Z"}`, ts("2024-01-02T03:04:05Z"), ""},
		{"rfc3339 bad month", "customer", "updated_at", connector.P("u"), `{"id":1,"u":"2024-13-02T03:04:05Z"}`, nil, `updated_at: "2024-13-02T03:04:05Z" is not an RFC 3339 timestamp`},
		{"rfc3339 no zone", "customer", "updated_at", connector.P("u"), `{"id":1,"u":"2024-01-02T03:04:05"}`, nil, "set a layout"},
		{"rfc3339 given a number", "customer", "updated_at", connector.P("u"), `{"id":1,"u":1704164645}`, nil, "set layout: epoch_s or epoch_ms"},
		{"go layout", "customer", "updated_at", connector.Expr{Path: "u", Layout: "02.01.2006 15:04"}, `{"id":1,"u":"02.01.2024 03:04"}`, ts("2024-01-02T03:04:00Z"), ""},
		{"go layout with zone", "customer", "updated_at", connector.Expr{Path: "u", Layout: "2006-01-02 15:04 -0700"}, `{"id":1,"u":"2024-01-02 03:04 +0100"}`, ts("2024-01-02T02:04:00Z"), ""},
		{"go layout mismatch", "customer", "updated_at", connector.Expr{Path: "u", Layout: "02.01.2006 15:04"}, `{"id":1,"u":"2024-01-02"}`, nil, `does not match layout "02.01.2006 15:04"`},
		{"epoch_s", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_s"}, `{"id":1,"u":1704164645}`, ts("2024-01-02T03:04:05Z"), ""},
		{"epoch_s string fraction", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_s"}, `{"id":1,"u":"1704164645.5"}`, ts("2024-01-02T03:04:05.5Z"), ""},
		{"epoch_ms", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_ms"}, `{"id":1,"u":"1704164645123"}`, ts("2024-01-02T03:04:05.123Z"), ""},
		{"integer above 2^53 with .0", "message", "size", connector.P("n"), `{"id":1,"n":9007199254740993.0}`, int64(9007199254740993), ""},
		{"integer with an exponent", "message", "size", connector.P("n"), `{"id":1,"n":"1e3"}`, int64(1000), ""},
		{"almost an integer", "message", "size", connector.P("n"), `{"id":1,"n":"1.0000000000000001"}`, nil, "is not an integer"},
		{"integer underflow", "message", "size", connector.P("n"), `{"id":1,"n":"1e-400"}`, nil, "is not an integer"},
		{"epoch_s micros exact", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_s"}, `{"id":1,"u":"1704164645.000007"}`, ts("2024-01-02T03:04:05.000007Z"), ""},
		{"epoch_s negative fraction", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_s"}, `{"id":1,"u":-1.25}`, ts("1969-12-31T23:59:58.75Z"), ""},
		{"epoch_ms fraction exact", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_ms"}, `{"id":1,"u":"1704164645123.457"}`, ts("2024-01-02T03:04:05.123457Z"), ""},
		{"epoch_ms negative", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_ms"}, `{"id":1,"u":-1500000000000}`, ts("1922-06-20T21:20:00Z"), ""},
		{"epoch s read as ms", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_ms"}, `{"id":1,"u":1704164645}`, nil, "looks like seconds"},
		{"epoch ms read as s", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_s"}, `{"id":1,"u":1704164645123}`, nil, "wrong unit?"},
		{"epoch not a number", "customer", "updated_at", connector.Expr{Path: "u", Layout: "epoch_s"}, `{"id":1,"u":"yesterday"}`, nil, "is not an epoch in seconds"},
		{"timestamp into date", "customer", "birth_date", connector.Expr{Path: "u", Type: "timestamp"}, `{"id":1,"u":"1980-05-01T23:30:00-02:00"}`, date(1980, 5, 2), ""},
		// dates
		{"date", "customer", "birth_date", connector.P("d"), `{"id":1,"d":"1980-02-29"}`, date(1980, 2, 29), ""},
		{"date from rfc3339 keeps its own day", "customer", "birth_date", connector.P("d"), `{"id":1,"d":"1980-05-01T00:00:00+02:00"}`, date(1980, 5, 1), ""},
		{"date not leap", "customer", "birth_date", connector.P("d"), `{"id":1,"d":"1981-02-29"}`, nil, "is not an RFC 3339 date"},
		{"date go layout", "customer", "birth_date", connector.Expr{Path: "d", Layout: "02.01.2006"}, `{"id":1,"d":"01.05.1980"}`, date(1980, 5, 1), ""},
		{"date into timestamp", "customer", "updated_at", connector.Expr{Path: "d", Type: "date"}, `{"id":1,"d":"2024-01-02"}`, date(2024, 1, 2), ""},
		// schema constraints
		{"enum", "ticket", "status", connector.P("s"), `{"id":1,"s":"new"}`, nil, `status: "new" is not one of open, pending, solved, closed`},
		{"pattern", "order", "currency", connector.P("c"), `{"id":1,"c":"EURO"}`, nil, `currency: "EURO" does not match the pattern ^[A-Za-z]{3}$`},
		{"pattern ok", "order", "currency", connector.P("c"), `{"id":1,"c":"eur"}`, "eur", ""},
		{"required event type", "event", "type", connector.P("t"), `{"id":1}`, nil, "type: required, but the record has no value for it"},
		{"long values are clipped in reasons", "ticket", "status", connector.P("s"), `{"id":1,"s":"` + strings.Repeat("é", 40) + `"}`, nil, `status: "` + strings.Repeat("é", 32) + `..." is not one of`},
		// ids
		{"ids", "customer", "ids.hubspot_contact_id", connector.P("id"), `{"id":17}`, []string{"hubspot_contact_id=17"}, ""},
		{"ids empty", "customer", "ids.hubspot_contact_id", connector.P("x"), `{"id":17}`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapField(t, tt.entity, tt.field, tt.expr, tt.data)
			if tt.reject != "" {
				var re *RejectError
				if !errors.As(err, &re) || !strings.Contains(re.Reason, tt.reject) {
					t.Fatalf("got %#v, %v; want a reject containing %q", got, err, tt.reject)
				}
				return
			}
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}
