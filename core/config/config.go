// Package config reads and validates desilo.yaml.
//
// Parsing keeps YAML line numbers, validates the file against the embedded
// JSON Schema schema/desilo.schema.json (the authority on its shape, with a
// description and default for every field), then decodes it into the types
// below with defaults applied and relative paths made absolute. Every
// problem is reported with file, line and field path, all at once:
//
//	desilo.yaml:14: sources[1].conector: unknown field (did you mean "connector"?)
//
// String values may hold references, expanded after parsing so that a
// value can never add YAML structure: ${ENV_VAR}, ${file:PATH} (relative to
// the config's directory, trailing newlines trimmed) and $${ for a literal
// ${. Values that came from references are secrets: Secrets lists them so
// logs can redact them.
package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/desilo/desilo/core/normalize"
	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/schema"
)

// SchemaFile is the embedded JSON Schema of desilo.yaml.
const SchemaFile = "desilo.schema.json"

// Config is a valid desilo.yaml with defaults applied. Paths are absolute.
// The json tags name the YAML fields; they are for decoding only.
type Config struct {
	// File is the path given to Load or the name given to Parse; errors
	// start with it.
	File string `json:"-"`
	// Dir is the absolute directory relative paths are resolved against.
	Dir string `json:"-"`

	Version int `json:"version"`
	// StateDir holds staging, saved source states and the run lock.
	StateDir string   `json:"state_dir"`
	Sources  []Source `json:"sources"`
	Identity Identity `json:"identity"`
	Profile  Profile  `json:"profile"`
	Output   Output   `json:"output"`
	Run      Run      `json:"run"`

	doc     *document
	secrets []string
}

// Source is one connector instance.
type Source struct {
	Name      string `json:"name"`
	Connector string `json:"connector"`
	// Config is the connector's own config as a JSON object ("{}" when
	// absent), references expanded. It holds secrets: never log it.
	Config json.RawMessage `json:"config"`
	Plugin Plugin          `json:"plugin"`
	// Streams are the streams to read; empty means all.
	Streams []string `json:"streams"`
	// Mapping replaces the connector's default mapping, per stream.
	Mapping map[string]connector.Mapping `json:"mapping"`

	// Line is where the source's entry starts in the file.
	Line  int `json:"-"`
	index int
}

// LogValue keeps a source's config, which holds secrets, out of logs.
func (s Source) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", s.Name), slog.String("connector", s.Connector))
}

// Plugin says how to find and trust a connector's executable.
type Plugin struct {
	// SHA256 is the checksum the executable must have, lower-case hex;
	// empty when not pinned.
	SHA256 string `json:"sha256"`
	// Path is an explicit executable (absolute); empty means search the
	// plugin path.
	Path string `json:"path"`
}

// Identity configures record linking.
type Identity struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region of phone numbers
	// written without a country code. It is set whenever a key normalizes
	// phone numbers.
	DefaultRegion string  `json:"default_region"`
	Keys          []Key   `json:"keys"`
	Limits        []Limit `json:"limits"`
}

// Normalizer names how a key's values are normalized before comparing.
type Normalizer string

const (
	NormalizeEmail      Normalizer = "email"
	NormalizePhone      Normalizer = "phone"
	NormalizeName       Normalizer = "name"
	NormalizePostalCode Normalizer = "postal_code"
	NormalizeLower      Normalizer = "lower"
	NormalizeNone       Normalizer = "none"
)

// NaturalNormalizer is the normalizer a single key's field gets when the
// key does not name one. Each part of a composite key gets
// normalize.ForField's, as identity applies it.
func NaturalNormalizer(field string) Normalizer {
	switch field {
	case "email":
		return NormalizeEmail
	case "phone":
		return NormalizePhone
	case "first_name", "last_name", "full_name":
		return NormalizeName
	case "postal_code":
		return NormalizePostalCode
	}
	return NormalizeNone
}

// Key is a match key. A single key sets Field and Normalize; a composite
// key sets Composite (two or more fields, each normalized by
// normalize.ForField) and leaves both empty.
type Key struct {
	Name      string     `json:"name"`
	Field     string     `json:"field"`
	Normalize Normalizer `json:"normalize"`
	Composite []string   `json:"composite"`
	// MaxRecordsPerValue: a value shared by more records links nothing.
	MaxRecordsPerValue int `json:"max_records_per_value"`
	// Blocklist holds values that link nothing, besides the shipped
	// defaults when UseDefaultBlocklist.
	Blocklist           []string   `json:"blocklist"`
	UseDefaultBlocklist bool       `json:"use_default_blocklist"`
	Email               EmailRules `json:"email"`
}

// Parts returns the fields a key reads with their normalizers: one for a
// single key, one per part for a composite key.
func (k Key) Parts() []KeyPart {
	if len(k.Composite) == 0 {
		return []KeyPart{{Field: k.Field, Normalize: k.Normalize}}
	}
	parts := make([]KeyPart, len(k.Composite))
	for i, f := range k.Composite {
		parts[i] = KeyPart{Field: f, Normalize: Normalizer(normalize.ForField(f))}
	}
	return parts
}

// KeyPart is one field of a key.
type KeyPart struct {
	Field     string
	Normalize Normalizer
}

// EmailRules are provider rules for email keys, off by default.
type EmailRules struct {
	StripDots bool `json:"strip_dots"`
	StripPlus bool `json:"strip_plus"`
}

// Limit: a customer holds at most MaxPerCustomer distinct values of the
// external id ids.<ID>.
type Limit struct {
	ID             string `json:"id"`
	MaxPerCustomer int    `json:"max_per_customer"`
}

// Rule is a survivorship rule.
type Rule string

const (
	MostRecent     Rule = "most_recent"
	SourcePriority Rule = "source_priority"
	MostFrequent   Rule = "most_frequent"
)

// Profile configures profile building.
type Profile struct {
	Survivorship Survivorship `json:"survivorship"`
}

// Survivorship says which value a profile field takes.
type Survivorship struct {
	Default Rule `json:"default"`
	// SourcePriority is the order for source_priority fields without their
	// own list.
	SourcePriority []string `json:"source_priority"`
	// Fields holds the fields with their own rule. Each has Rule set, and
	// SourcePriority set when Rule is source_priority.
	Fields map[string]FieldRule `json:"fields"`
}

// FieldRule is one field's survivorship rule.
type FieldRule struct {
	Rule           Rule     `json:"rule"`
	SourcePriority []string `json:"source_priority"`
}

// For returns the rule of a profile field: its own or the default.
func (s Survivorship) For(field string) FieldRule {
	if r, ok := s.Fields[field]; ok {
		return r
	}
	r := FieldRule{Rule: s.Default}
	if r.Rule == SourcePriority {
		r.SourcePriority = s.SourcePriority
	}
	return r
}

// Output configures publishing.
type Output struct {
	Parquet Parquet `json:"parquet"`
	// BigQuery is nil when the file configures no BigQuery output.
	BigQuery *BigQuery `json:"bigquery"`
}

// Parquet configures the Parquet snapshot, which is always written.
type Parquet struct {
	Path         string `json:"path"` // absolute
	RowGroupSize int    `json:"row_group_size"`
}

// BigQuery configures BigQuery loads.
type BigQuery struct {
	Project     string `json:"project"`
	Dataset     string `json:"dataset"`
	Location    string `json:"location"` // empty: BigQuery's default
	TablePrefix string `json:"table_prefix"`
	Endpoint    string `json:"endpoint"` // empty: Google's public endpoint
	// CredentialsFile is absolute; empty means Application Default
	// Credentials.
	CredentialsFile string           `json:"credentials_file"`
	Tables          map[string]Table `json:"tables"`
}

// Table is a BigQuery table's layout. PartitionType is set (DAY by
// default) exactly when PartitionField is.
type Table struct {
	PartitionField string   `json:"partition_field"`
	PartitionType  string   `json:"partition_type"`
	Clustering     []string `json:"clustering"`
}

// Run configures how a run behaves.
type Run struct {
	// MaxRejectRatio: a stream rejecting a larger share of its records
	// fails its source.
	MaxRejectRatio float64
	// IdleTimeout: a connector silent for this long is stopped as hung.
	IdleTimeout time.Duration
	// SourceTimeout bounds one source's extraction; 0 means no limit.
	SourceTimeout time.Duration
	LogLevel      slog.Level
}

// UnmarshalJSON reads durations as Go duration strings ("5m").
func (r *Run) UnmarshalJSON(b []byte) error {
	var raw struct {
		MaxRejectRatio float64    `json:"max_reject_ratio"`
		IdleTimeout    string     `json:"idle_timeout"`
		SourceTimeout  string     `json:"source_timeout"`
		LogLevel       slog.Level `json:"log_level"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	idle, err := time.ParseDuration(raw.IdleTimeout)
	if err != nil {
		return fmt.Errorf("idle_timeout: %w", err)
	}
	total, err := time.ParseDuration(raw.SourceTimeout)
	if err != nil {
		return fmt.Errorf("source_timeout: %w", err)
	}
	*r = Run{MaxRejectRatio: raw.MaxRejectRatio, IdleTimeout: idle, SourceTimeout: total, LogLevel: raw.LogLevel}
	return nil
}

// Load reads and validates a config file. Relative paths in it are
// resolved against the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, filepath.Dir(path))
}

// Parse validates the config in data. name is used in errors; dir is the
// base of relative paths. A config with problems yields Errors, listing
// every problem sorted by line.
func Parse(name string, data []byte, dir string) (*Config, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	x := &expander{dir: dir, lookup: os.LookupEnv, secrets: map[string]bool{}}
	d := parseYAML(name, data, x)
	if d.value == nil && len(d.errs) > 0 { // not YAML, or too big to convert
		return nil, d.errs.sorted()
	}
	if errs, err := validateSchema(d); err != nil {
		return nil, err
	} else if len(errs) > 0 || len(d.errs) > 0 {
		return nil, append(d.errs, withoutPaths(errs, d.errs)...).sorted()
	}

	root := d.value.(map[string]any) // the schema says it is a mapping
	applyDefaults(root)
	c := &Config{File: name, Dir: dir, doc: d}
	b, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // the schema forbids them already; this keeps the types honest
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("config %s: the schema and the Go types disagree: %w", name, err)
	}
	for i := range c.Sources {
		c.Sources[i].index = i
		c.Sources[i].Line = d.line(fmt.Sprintf("/sources/%d", i))
	}
	c.canonicalize()
	if errs := c.check(); len(errs) > 0 {
		return nil, errs.sorted()
	}
	for s := range x.secrets {
		c.secrets = append(c.secrets, s)
	}
	// Longest first, so a redactor replacing in order never leaves part
	// of a secret that contains a shorter one.
	slices.SortFunc(c.secrets, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), cmp.Compare(a, b))
	})
	return c, nil
}

// validateSchema checks d against the embedded schema of desilo.yaml. The
// error is for a broken embedded schema, a bug in desilo.
func validateSchema(d *document) (Errors, error) {
	sch, err := schema.Compile(SchemaFile)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := sch.Validate(d.value); err != nil {
		raw, rerr := desiloSchema()
		if rerr != nil {
			return nil, rerr
		}
		r := &renderer{d: d, raw: map[string]any{schema.URL(SchemaFile): raw}}
		return r.render(err), nil
	}
	return nil, nil
}

// desiloSchema is the decoded schema of desilo.yaml, for error messages.
// Decoded once: renderers only read it.
var desiloSchema = sync.OnceValues(func() (any, error) { return rawSchema(SchemaFile) })

func rawSchema(name string) (any, error) {
	b, err := schema.Read(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("config: schema %s: %w", name, err)
	}
	return v, nil
}

// withoutPaths drops the errors about a value that already has an error
// of its own (an unset variable leaves an empty string the schema would
// complain about too).
func withoutPaths(errs, seen Errors) Errors {
	var out Errors
	for _, e := range errs {
		if !slices.ContainsFunc(seen, func(s *Error) bool { return s.Path == e.Path }) {
			out = append(out, e)
		}
	}
	return out
}

// Source returns the source with the given name.
func (c *Config) Source(name string) (*Source, bool) {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// Secrets returns every value that came from a ${...} reference, longest
// first, for redacting logs and errors.
func (c *Config) Secrets() []string { return slices.Clone(c.secrets) }

// ErrorAt makes an error located at a JSON pointer into the file's
// document ("/sources/0/config/token"), for problems found after parsing:
// a connector rejecting its config, a mapping that does not compile. A
// pointer to something absent gets its nearest present ancestor's line.
func (c *Config) ErrorAt(pointer, msg string) *Error {
	d := c.doc
	if d == nil { // a Config built by hand, not parsed: no lines to give
		d = &document{}
	}
	return &Error{File: c.File, Line: d.line(pointer), Path: d.pathOf(pointer), Msg: msg}
}

// Pointer returns the JSON pointer of the source's entry, the base for
// ErrorAt: s.Pointer()+"/config/token".
func (s *Source) Pointer() string { return fmt.Sprintf("/sources/%d", s.index) }
