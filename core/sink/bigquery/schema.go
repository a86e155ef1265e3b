package bigquery

import (
	"fmt"
	"slices"
	"strings"

	bq "cloud.google.com/go/bigquery"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
)

// Schema derives the BigQuery schema of a model table: one field per
// column, in the model's order, with the schema file's descriptions.
//
//	String    STRING       Required  REQUIRED
//	Integer   INTEGER      optional  NULLABLE
//	Number    FLOAT        List      REPEATED (a null list loads as [])
//	Boolean   BOOLEAN
//	Timestamp TIMESTAMP
//	Date      DATE
//
// Number is FLOAT (FLOAT64), money included: the model's "number" has no
// scale, and the Parquet files hold DOUBLE, which loads into FLOAT64
// without a conversion. Cast to NUMERIC in queries that need exact sums.
func Schema(t *model.Table) bq.Schema {
	s := make(bq.Schema, len(t.Columns))
	for i, c := range t.Columns {
		s[i] = &bq.FieldSchema{
			Name:        c.Name,
			Type:        fieldType(c.Type),
			Description: c.Description,
			Required:    c.Required && !c.List,
			Repeated:    c.List,
		}
	}
	return s
}

func fieldType(t model.Type) bq.FieldType {
	switch t {
	case model.Integer:
		return bq.IntegerFieldType
	case model.Number:
		return bq.FloatFieldType
	case model.Boolean:
		return bq.BooleanFieldType
	case model.Timestamp:
		return bq.TimestampFieldType
	case model.Date:
		return bq.DateFieldType
	}
	return bq.StringFieldType
}

// Layout is a table's partitioning and clustering.
type Layout struct {
	Partitioning *bq.TimePartitioning // nil: not partitioned
	Clustering   []string
	// DefaultPartitioning: the config does not set the partition type, so
	// an existing table may keep the one an older default gave it.
	DefaultPartitioning bool
}

// defaultLayouts are the layouts of tables the config says nothing about:
// events are read by time range and customer, customers by id. Events
// are partitioned by month, not day: one load job may write at most 4,000
// partitions, which by day is 11 years of history, less than many CRMs
// hold.
var defaultLayouts = map[string]config.Table{
	"event":    {PartitionField: "occurred_at", PartitionType: "MONTH", Clustering: []string{"customer_id"}},
	"customer": {Clustering: []string{"customer_id"}},
}

// ConfigError is a problem in output.bigquery. Field is its path below
// output.bigquery ("tables.customer.partition_field"), for callers that
// point at its line in desilo.yaml.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "output.bigquery." + e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// TableLayout returns the layout of a model table: the default, with
// partitioning and clustering each replaced when the config sets them.
// It checks that the columns exist and can partition or cluster.
func TableLayout(cfg config.BigQuery, t *model.Table) (Layout, error) {
	lt := defaultLayouts[t.Name]
	var l Layout
	l.DefaultPartitioning = true
	if o, ok := cfg.Tables[t.Name]; ok {
		if o.PartitionField != "" {
			lt.PartitionField, lt.PartitionType = o.PartitionField, o.PartitionType
			l.DefaultPartitioning = o.PartitionType == ""
		}
		if len(o.Clustering) > 0 {
			lt.Clustering = o.Clustering
		}
	}
	where := "tables." + t.Name
	if lt.PartitionField != "" {
		c, err := column(t, lt.PartitionField)
		if err != nil {
			return Layout{}, &ConfigError{where + ".partition_field", err}
		}
		typ := strings.ToUpper(lt.PartitionType)
		if typ == "" {
			typ = "MONTH" // see defaultLayouts
		}
		switch {
		case c.List || (c.Type != model.Timestamp && c.Type != model.Date):
			return Layout{}, &ConfigError{where + ".partition_field", fmt.Errorf("column %s is a %s, want a timestamp or date", c.Name, kind(c))}
		case c.Type == model.Date && typ == "HOUR":
			return Layout{}, &ConfigError{where + ".partition_type", fmt.Errorf("HOUR needs a timestamp column, %s is a date", c.Name)}
		case !slices.Contains([]string{"DAY", "HOUR", "MONTH", "YEAR"}, typ):
			return Layout{}, &ConfigError{where + ".partition_type", fmt.Errorf("%q, want DAY, HOUR, MONTH or YEAR", lt.PartitionType)}
		}
		l.Partitioning = &bq.TimePartitioning{Type: bq.TimePartitioningType(typ), Field: c.Name}
	}
	if len(lt.Clustering) > 4 {
		return Layout{}, &ConfigError{where + ".clustering", fmt.Errorf("%d columns, BigQuery allows at most 4", len(lt.Clustering))}
	}
	for _, name := range lt.Clustering {
		c, err := column(t, name)
		if err != nil {
			return Layout{}, &ConfigError{where + ".clustering", err}
		}
		if c.List || c.Type == model.Number {
			return Layout{}, &ConfigError{where + ".clustering", fmt.Errorf("column %s is a %s, which BigQuery cannot cluster by", c.Name, kind(c))}
		}
		l.Clustering = append(l.Clustering, c.Name)
	}
	return l, nil
}

func column(t *model.Table, name string) (model.Column, error) {
	i, ok := t.Index(name)
	if !ok {
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		return model.Column{}, fmt.Errorf("table %s has no column %q%s", t.Name, name, config.Suggest(name, names))
	}
	return t.Columns[i], nil
}

func kind(c model.Column) string {
	if c.List {
		return "list of " + c.Type.String()
	}
	return c.Type.String()
}

// Validate checks the BigQuery section of a config against the model:
// every table's partitioning and clustering name columns that can hold
// them. Publish does the same before it touches BigQuery.
func Validate(cfg config.BigQuery) error {
	for name := range cfg.Tables {
		if !slices.Contains(model.Outputs, name) {
			return &ConfigError{"tables." + name, fmt.Errorf("not a table desilo publishes (%s)", strings.Join(model.Outputs, ", "))}
		}
	}
	for _, name := range model.Outputs {
		t, err := model.Load(name)
		if err != nil {
			return err
		}
		if _, err := TableLayout(cfg, t); err != nil {
			return err
		}
	}
	return nil
}
