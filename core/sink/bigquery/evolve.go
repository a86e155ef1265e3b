package bigquery

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	bq "cloud.google.com/go/bigquery"
)

// change is what a publish does to an existing target before it loads.
type change struct {
	schema     bq.Schema // the target's schema after the update; staging gets it too
	update     bool      // schema (columns, modes or descriptions) differs
	added      []string
	relaxed    []string // REQUIRED → NULLABLE
	kept       []string // gone from the model, kept in BigQuery (NULL in new rows)
	clustering []string // non-nil: replace the target's clustering
}

// evolve compares an existing target with the derived schema and layout.
// Additive changes are allowed: new NULLABLE or REPEATED columns, REQUIRED
// relaxed to NULLABLE, new descriptions, new clustering. Anything that
// BigQuery cannot do in place, or that would break readers, is an error
// naming the table and every offending column.
func evolve(table string, have *bq.TableMetadata, want bq.Schema, l Layout) (change, error) {
	var ch change
	var bad []string
	wantBy := map[string]*bq.FieldSchema{}
	for _, w := range want {
		wantBy[strings.ToLower(w.Name)] = w // BigQuery column names ignore case
	}
	seen := map[string]bool{}
	for _, h := range have.Schema {
		key := strings.ToLower(h.Name)
		seen[key] = true
		w, ok := wantBy[key]
		if !ok {
			if h.Required {
				bad = append(bad, fmt.Sprintf("column %s: REQUIRED in BigQuery but no longer in the model (removed or renamed)", h.Name))
				continue
			}
			ch.kept = append(ch.kept, h.Name)
			ch.schema = append(ch.schema, h)
			continue
		}
		if ht, wt := normType(h.Type), normType(w.Type); ht != wt {
			bad = append(bad, fmt.Sprintf("column %s: type changes from %s to %s", h.Name, ht, wt))
			continue
		}
		if hm, wm := mode(h), mode(w); hm != wm {
			switch {
			case hm == "REQUIRED" && wm == "NULLABLE":
				ch.relaxed = append(ch.relaxed, h.Name)
			default:
				bad = append(bad, fmt.Sprintf("column %s: mode changes from %s to %s", h.Name, hm, wm))
				continue
			}
		}
		f := *w
		f.Name = h.Name
		ch.schema = append(ch.schema, &f)
	}
	for _, w := range want {
		if seen[strings.ToLower(w.Name)] {
			continue
		}
		if w.Required {
			bad = append(bad, fmt.Sprintf("column %s: new and REQUIRED, but BigQuery can add only NULLABLE or REPEATED columns to a table", w.Name))
			continue
		}
		ch.added = append(ch.added, w.Name)
		ch.schema = append(ch.schema, w)
	}
	if msg := partitionDiff(have.TimePartitioning, l.Partitioning); msg != "" {
		bad = append(bad, msg+": BigQuery cannot change a table's partitioning; drop the table (the next publish recreates it) or change output.bigquery.tables."+table)
	}
	var hc []string
	if have.Clustering != nil {
		hc = have.Clustering.Fields
	}
	if !slices.Equal(hc, l.Clustering) {
		ch.clustering = append([]string{}, l.Clustering...)
	}
	if len(bad) > 0 {
		return change{}, fmt.Errorf("table %s: %w:\n  %s", table, ErrIncompatible, strings.Join(bad, "\n  "))
	}
	ch.update = !sameSchema(have.Schema, ch.schema)
	return ch, nil
}

func partitionDiff(have, want *bq.TimePartitioning) string {
	str := func(p *bq.TimePartitioning) string {
		if p == nil {
			return "none"
		}
		typ := p.Type
		if typ == "" {
			typ = bq.DayPartitioningType
		}
		field := p.Field
		if field == "" {
			field = "_PARTITIONTIME"
		}
		return fmt.Sprintf("%s(%s)", typ, field)
	}
	if h, w := str(have), str(want); h != w {
		return fmt.Sprintf("partitioning is %s in BigQuery, the config wants %s", h, w)
	}
	return ""
}

// normType maps the standard SQL spellings to the legacy ones the API
// also returns, so INT64 and INTEGER compare equal.
func normType(t bq.FieldType) bq.FieldType {
	switch strings.ToUpper(string(t)) {
	case "INT64":
		return bq.IntegerFieldType
	case "FLOAT64":
		return bq.FloatFieldType
	case "BOOL":
		return bq.BooleanFieldType
	case "STRUCT":
		return bq.RecordFieldType
	}
	return bq.FieldType(strings.ToUpper(string(t)))
}

func mode(f *bq.FieldSchema) string {
	switch {
	case f.Repeated:
		return "REPEATED"
	case f.Required:
		return "REQUIRED"
	}
	return "NULLABLE"
}

func sameSchema(a, b bq.Schema) bool {
	return slices.EqualFunc(a, b, func(x, y *bq.FieldSchema) bool {
		return x.Name == y.Name && normType(x.Type) == normType(y.Type) && mode(x) == mode(y) &&
			x.Description == y.Description && len(x.Schema) == len(y.Schema)
	})
}

// ErrIncompatible marks a schema change BigQuery cannot apply in place;
// Publish returns it before it has loaded anything.
var ErrIncompatible = errors.New("incompatible schema change")
