package mapping

import (
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/schema"
)

// TestValidationAgreesWithSchema maps random records twice: with a plan
// and with the same plan stripped of its validation. Whenever the stripped
// plan produces a row, the plan must accept the record exactly when the
// row, as a JSON object, validates against the entity's JSON Schema.
func TestValidationAgreesWithSchema(t *testing.T) {
	pick := func(r *rand.Rand, vs ...any) any { return vs[r.Intn(len(vs))] }
	cases := []struct {
		entity  string
		rejects bool // whether the schema constrains the mapped fields at all
		fields  map[string]connector.Expr
		gen     func(r *rand.Rand) map[string]any
	}{
		{"order", true, map[string]connector.Expr{
			"currency": connector.P("currency"), "items_count": connector.P("n"), "total": connector.P("t"),
			"status": connector.P("s"), "ordered_at": connector.P("at"),
		}, func(r *rand.Rand) map[string]any {
			return map[string]any{
				"currency": pick(r, "EUR", "eur", "EURO", "E1R", "", " EU", nil, "€€€"),
				"n":        pick(r, 0, 5, -1, "3", "-7", nil),
				"t":        pick(r, 12.5, -3, "0", nil),
				"s":        pick(r, "open", "", nil),
				"at":       pick(r, "2024-01-02T03:04:05Z", nil),
			}
		}},
		{"ticket", true, map[string]connector.Expr{
			"status": connector.P("s"), "priority": {Path: "p", Lower: true},
		}, func(r *rand.Rand) map[string]any {
			return map[string]any{
				"s": pick(r, "open", "pending", "solved", "closed", "Open", "new", "", " open", nil, 2, true),
				"p": pick(r, "HIGH", nil),
			}
		}},
		{"message", true, map[string]connector.Expr{
			"direction": connector.P("d"), "size": connector.P("z"), "to": connector.P("to"), "cc": connector.P("cc[].a"),
		}, func(r *rand.Rand) map[string]any {
			return map[string]any{
				"d":  pick(r, "in", "out", "IN", "x", "", nil),
				"z":  pick(r, 0, 10, -1, nil),
				"to": pick(r, []any{"a", "b"}, []any{}, "c", nil, []any{nil, ""}),
				"cc": pick(r, []any{map[string]any{"a": "x"}, map[string]any{"b": "y"}}, nil),
			}
		}},
		{"event", true, map[string]connector.Expr{
			"type": connector.P("type"), "amount": connector.P("amt"), "currency": connector.P("cur"),
			"occurred_at": {Path: "ts", Layout: "epoch_s"},
		}, func(r *rand.Rand) map[string]any {
			m := map[string]any{
				"type": pick(r, "refund", " ", nil, "x"),
				"amt":  pick(r, 1.5, -2, nil),
				"cur":  pick(r, "USD", "usd1", nil),
				"ts":   pick(r, 1700000000, nil),
			}
			if r.Intn(5) == 0 {
				delete(m, "type")
			}
			return m
		}},
		{"customer", false, map[string]connector.Expr{
			"email": connector.P("e"), "birth_date": connector.P("dob"), "consent_sms": connector.P("sms"),
			"ids.crm": connector.P("crm"), "ids.shop": connector.P("shop"),
		}, func(r *rand.Rand) map[string]any {
			return map[string]any{
				"e":    pick(r, "a@b.de", "", nil),
				"dob":  pick(r, "1980-05-01", nil),
				"sms":  pick(r, "yes", false, nil),
				"crm":  pick(r, "17", 18, nil),
				"shop": pick(r, "x=y", nil),
			}
		}},
	}
	r := rand.New(rand.NewSource(1))
	for _, tc := range cases {
		t.Run(tc.entity, func(t *testing.T) {
			stream := connector.Stream{Name: "s", PrimaryKey: []string{"id"}}
			m := connector.Mapping{Entity: tc.entity, Fields: tc.fields}
			checked, err := Compile(stream, m)
			if err != nil {
				t.Fatal(err)
			}
			unchecked, _ := Compile(stream, m)
			for i := range unchecked.cols {
				unchecked.cols[i].chk = nil
			}
			unchecked.required, unchecked.whole = nil, nil
			sch, err := schema.Compile(model.Mapped[tc.entity] + ".schema.json")
			if err != nil {
				t.Fatal(err)
			}
			width := len(checked.Table().Columns)
			accepted, rejected := 0, 0
			for n := 0; n < 2000; n++ {
				rec := tc.gen(r)
				rec["id"] = n + 1
				data, _ := json.Marshal(rec)
				raw := make([]any, width)
				if err := unchecked.Map("src", connector.Record{Data: data}, raw); err != nil {
					continue // a conversion failure: nothing to validate
				}
				schemaErr := sch.Validate(jsonObject(checked.Table(), raw))
				row := make([]any, width)
				err := checked.Map("src", connector.Record{Data: data}, row)
				var re *RejectError
				if err != nil && !errors.As(err, &re) {
					t.Fatal(err)
				}
				if (err == nil) != (schemaErr == nil) {
					t.Fatalf("record %s: plan says %v, schema says %v", data, err, schemaErr)
				}
				if err == nil {
					accepted++
					if !reflect.DeepEqual(row, raw) {
						t.Fatalf("record %s: checked row %v differs from unchecked %v", data, row, raw)
					}
				} else {
					rejected++
				}
			}
			if accepted < 50 || tc.rejects && rejected < 50 {
				t.Errorf("too few of each outcome to compare: %d accepted, %d rejected", accepted, rejected)
			}
		})
	}
}

// jsonObject renders a row as the JSON object the entity's schema
// describes: every column, nil as null.
func jsonObject(t *model.Table, row []any) map[string]any {
	obj := make(map[string]any, len(row))
	for i, c := range t.Columns {
		switch v := row[i].(type) {
		case time.Time:
			if c.Type == model.Date {
				obj[c.Name] = v.Format(time.DateOnly)
			} else {
				obj[c.Name] = v.Format(time.RFC3339Nano)
			}
		case []string:
			if c.Name == "ids" {
				ids := map[string]any{}
				for _, p := range v {
					k, val, _ := model.SplitPair(p)
					ids[k] = val
				}
				obj[c.Name] = ids
				continue
			}
			list := make([]any, len(v))
			for j, s := range v {
				list[j] = s
			}
			obj[c.Name] = list
		default:
			obj[c.Name] = v
		}
	}
	return obj
}
