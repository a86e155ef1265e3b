package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/plugins/connector"
)

// FuzzMap feeds arbitrary bytes to plans that use every kind of
// expression: Map must never panic, must reject exactly the input that is
// not a JSON object, and must only ever put the column's Go type in a row.
func FuzzMap(f *testing.F) {
	for _, s := range append(scanCorpus, string(contact),
		`{"id":1,"to":[{"a":"X"},{"a":2}],"cc":"c","d":"in","z":"12","t":"1700000000","s":{"x":[1]}}`,
		`{"id":[1],"to":"x"}`, `{"id":"1","e":"\ud83d","dob":"1980-02-30","sms":"Y","crm":{"a":1}}`,
	) {
		f.Add([]byte(s))
	}
	stream := connector.Stream{Name: "s", PrimaryKey: []string{"id"}}
	var plans []*Plan
	for _, m := range []connector.Mapping{
		contactMapping,
		{Entity: "message", Fields: map[string]connector.Expr{
			"to":        {Path: "to[].a", Lower: true, Trim: true},
			"cc":        {Coalesce: []connector.Expr{connector.P("cc"), connector.P("bcc[]")}},
			"direction": {Path: "d", Values: map[string]string{"inbound": "in"}},
			"size":      connector.P("z"),
			"subject":   {Concat: []connector.Expr{connector.P("s"), connector.P("to[].a"), {Const: 1.5}}, Sep: "/"},
			"sent_at":   {Coalesce: []connector.Expr{{Path: "t", Type: "timestamp", Layout: "epoch_s"}, {Path: "t2", Type: "timestamp", Layout: "02.01.2006 15:04"}}},
		}},
		{Entity: "customer", Fields: map[string]connector.Expr{
			"email": {Path: "e", Lower: true}, "birth_date": connector.P("dob"), "consent_sms": connector.P("sms"),
			"ids.crm": connector.P("crm"), "updated_at": {Path: "u", Type: "date"},
		}},
		{Entity: "order", Fields: map[string]connector.Expr{
			"total": {Path: "t", Type: "money_minor", Scale: 3}, "items_count": connector.P("n"), "currency": connector.P("c"),
		}},
	} {
		p, err := Compile(stream, m)
		if err != nil {
			f.Fatal(err)
		}
		plans = append(plans, p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var obj map[string]any
		isObject := json.Unmarshal(data, &obj) == nil && obj != nil
		for _, p := range plans {
			row := make([]any, len(p.Table().Columns))
			err := p.Map("src", connector.Record{Data: data}, row)
			var re *RejectError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("%s: not a reject: %v", p.Entity(), err)
			}
			if !isObject && err == nil {
				t.Fatalf("%s: accepted %q, which is not a JSON object", p.Entity(), data)
			}
			// encoding/json allows deeper nesting than the scanner.
			if isObject && err != nil && strings.HasPrefix(re.Reason, "invalid JSON") && !strings.Contains(re.Reason, "nested deeper") {
				t.Fatalf("%s: syntax reject of a valid object %q: %v", p.Entity(), data, err)
			}
			if err == nil {
				checkTypes(t, p.Table(), row)
			}
		}
	})
}

func checkTypes(t *testing.T, table *model.Table, row []any) {
	t.Helper()
	for i, c := range table.Columns {
		v := row[i]
		if v == nil {
			if c.Required {
				t.Fatalf("required column %s is nil", c.Name)
			}
			continue
		}
		ok := false
		switch {
		case c.List:
			l, isList := v.([]string)
			ok = isList && len(l) > 0
		case c.Type == model.String:
			s, isStr := v.(string)
			ok = isStr && s != ""
		case c.Type == model.Integer:
			_, ok = v.(int64)
		case c.Type == model.Number:
			_, ok = v.(float64)
		case c.Type == model.Boolean:
			_, ok = v.(bool)
		case c.Type == model.Timestamp, c.Type == model.Date:
			var tm time.Time
			tm, ok = v.(time.Time)
			ok = ok && tm.Location() == time.UTC && (c.Type == model.Timestamp || tm.Equal(midnight(tm)))
		}
		if !ok {
			t.Fatalf("column %s (%s, list %v) holds %#v", c.Name, c.Type, c.List, v)
		}
	}
}
