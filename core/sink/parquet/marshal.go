package parquet

import (
	"fmt"
	"time"

	"github.com/xitongsys/parquet-go/common"
	"github.com/xitongsys/parquet-go/layout"
	pq "github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/schema"

	"github.com/desilo/desilo/core/model"
)

// encoder checks rows against a table and turns buffered rows into the
// library's column tables (its MarshalFunc), one per leaf column.
type encoder struct {
	table  *model.Table
	leaf   []int    // per column: index of its leaf schema element
	paths  []string // per column: the library's path string of the leaf
	leaves int
	sh     *schema.SchemaHandler
}

func newEncoder(t *model.Table) (*encoder, []*pq.SchemaElement) {
	elems, leaf := schemaElements(t)
	return &encoder{table: t, leaf: leaf, leaves: len(leaf)}, elems
}

// bind records the schema handler the library built from our elements.
func (e *encoder) bind(sh *schema.SchemaHandler) {
	e.sh = sh
	e.paths = make([]string, len(e.leaf))
	for i, l := range e.leaf {
		e.paths[i] = sh.IndexMap[int32(l)]
	}
}

// check validates one row and counts, per column, the leaf entries that
// hold no value (a null, or a null or empty list).
func (e *encoder) check(row []any, nulls []int64) error {
	cols := e.table.Columns
	if len(row) != len(cols) {
		return fmt.Errorf("%d values for %d columns", len(row), len(cols))
	}
	for i, c := range cols {
		v := row[i]
		if v == nil {
			if c.Required {
				return fmt.Errorf("column %s is required but nil", c.Name)
			}
			nulls[i]++
			continue
		}
		var ok bool
		if c.List {
			var n int
			n, ok = listLen(c.Type, v)
			if ok && n == 0 {
				nulls[i]++
			}
			if ok && c.Type == model.Date {
				for _, d := range v.([]time.Time) {
					if !isMidnightUTC(d) {
						return fmt.Errorf("column %s: date %s is not midnight UTC", c.Name, d.Format(time.RFC3339))
					}
				}
			}
		} else {
			ok = scalarOK(c.Type, v)
			if ok && c.Type == model.Date && !isMidnightUTC(v.(time.Time)) {
				return fmt.Errorf("column %s: date %s is not midnight UTC", c.Name, v.(time.Time).Format(time.RFC3339))
			}
		}
		if !ok {
			want := goType(c.Type)
			if c.List {
				want = "[]" + want
			}
			return fmt.Errorf("column %s wants %s, got %T", c.Name, want, v)
		}
	}
	return nil
}

func scalarOK(t model.Type, v any) bool {
	switch v.(type) {
	case string:
		return t == model.String
	case int64:
		return t == model.Integer
	case float64:
		return t == model.Number
	case bool:
		return t == model.Boolean
	case time.Time:
		return t == model.Timestamp || t == model.Date
	}
	return false
}

func listLen(t model.Type, v any) (int, bool) {
	switch l := v.(type) {
	case []string:
		return len(l), t == model.String
	case []int64:
		return len(l), t == model.Integer
	case []float64:
		return len(l), t == model.Number
	case []bool:
		return len(l), t == model.Boolean
	case []time.Time:
		return len(l), t == model.Timestamp || t == model.Date
	}
	return 0, false
}

func goType(t model.Type) string {
	switch t {
	case model.String:
		return "string"
	case model.Integer:
		return "int64"
	case model.Number:
		return "float64"
	case model.Boolean:
		return "bool"
	}
	return "time.Time"
}

func isMidnightUTC(t time.Time) bool {
	u := t.UTC()
	return u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0
}

// physical converts a checked scalar to the library's value for its
// Parquet type. Strings, int64, float64 and bool pass as they are.
func physical(t model.Type, v any) any {
	switch t {
	case model.Timestamp:
		return v.(time.Time).UnixMicro()
	case model.Date:
		return int32(v.(time.Time).Unix() / 86400) // midnight UTC, checked
	}
	return v
}

// marshal is the library's MarshalFunc: rows (checked copies) to column
// tables. Definition levels: a scalar is 1 when set (0 when null) in an
// optional column and always 0 in a required one. A list leaf adds one
// level for "has an element"; its repetition level is 1 for every element
// after a list's first.
func (e *encoder) marshal(rows []any, _ *schema.SchemaHandler) (*map[string]*layout.Table, error) {
	out := make(map[string]*layout.Table, len(e.leaf))
	for i, c := range e.table.Columns {
		var opt int32
		if !c.Required {
			opt = 1
		}
		tb := &layout.Table{
			Schema:             e.sh.SchemaElements[e.leaf[i]],
			Path:               common.StrToPath(e.paths[i]),
			Info:               e.sh.Infos[e.leaf[i]],
			RepetitionType:     e.sh.SchemaElements[e.leaf[i]].GetRepetitionType(),
			MaxDefinitionLevel: opt,
			Values:             make([]any, 0, len(rows)),
			DefinitionLevels:   make([]int32, 0, len(rows)),
			RepetitionLevels:   make([]int32, 0, len(rows)),
		}
		if c.List {
			tb.MaxDefinitionLevel = opt + 1
			tb.MaxRepetitionLevel = 1
		}
		for _, r := range rows {
			v := r.([]any)[i]
			switch {
			case v == nil:
				add(tb, nil, 0, 0)
			case !c.List:
				add(tb, physical(c.Type, v), opt, 0)
			default:
				e.addList(tb, c.Type, v, opt)
			}
		}
		out[e.paths[i]] = tb
	}
	return &out, nil
}

func (e *encoder) addList(tb *layout.Table, t model.Type, v any, opt int32) {
	var n int
	switch l := v.(type) {
	case []string:
		n = len(l)
		for j, s := range l {
			add(tb, s, opt+1, rep(j))
		}
	case []int64:
		n = len(l)
		for j, x := range l {
			add(tb, x, opt+1, rep(j))
		}
	case []float64:
		n = len(l)
		for j, x := range l {
			add(tb, x, opt+1, rep(j))
		}
	case []bool:
		n = len(l)
		for j, x := range l {
			add(tb, x, opt+1, rep(j))
		}
	case []time.Time:
		n = len(l)
		for j, x := range l {
			add(tb, physical(t, x), opt+1, rep(j))
		}
	}
	if n == 0 { // an empty list: defined up to the list, no element
		add(tb, nil, opt, 0)
	}
}

func rep(j int) int32 {
	if j == 0 {
		return 0
	}
	return 1
}

func add(tb *layout.Table, v any, def, rep int32) {
	tb.Values = append(tb.Values, v)
	tb.DefinitionLevels = append(tb.DefinitionLevels, def)
	tb.RepetitionLevels = append(tb.RepetitionLevels, rep)
}
