package files

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed config.schema.json
var configSchemaJSON []byte

// Config is the connector's config.
type Config struct {
	Streams []StreamConfig `json:"streams"`
}

// StreamConfig is one stream of files.
type StreamConfig struct {
	Name        string          `json:"name"`
	Paths       []string        `json:"paths"`
	Format      string          `json:"format,omitempty"`
	PrimaryKey  []string        `json:"primary_key"`
	CursorField string          `json:"cursor_field,omitempty"`
	CSV         CSVConfig       `json:"csv"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// CSVConfig says how the CSV files of a stream are written.
type CSVConfig struct {
	Delimiter string `json:"delimiter,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Header    *bool  `json:"header,omitempty"`
}

const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
	formatJSON  = "json"

	encodingUTF8   = "utf-8"
	encodingLatin1 = "latin-1"
)

// parseConfig decodes and validates a config: against the config schema
// (the host did so already, but Check and Read must be safe on their own),
// strictly, and for what a schema cannot say.
func parseConfig(raw json.RawMessage) (*Config, error) {
	sch, err := compileSchema("config", configSchemaJSON)
	if err != nil {
		return nil, fmt.Errorf("files: config schema: %w", err) // a bug, not the user's
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("files: config: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return nil, fmt.Errorf("files: config: %w", err)
	}
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("files: config: %w", err)
	}
	seen := map[string]bool{}
	for i := range cfg.Streams {
		s := &cfg.Streams[i]
		if seen[s.Name] {
			return nil, fmt.Errorf("files: config: streams[%d]: stream name %q is used twice", i, s.Name)
		}
		seen[s.Name] = true
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("files: config: stream %q: %w", s.Name, err)
		}
	}
	return &cfg, nil
}

func (s *StreamConfig) check() error {
	if d, _ := utf8.DecodeRuneInString(s.CSV.Delimiter); s.CSV.Delimiter != "" &&
		(d == '"' || d == '\r' || d == '\n' || d == utf8.RuneError) {
		return fmt.Errorf("csv.delimiter %q cannot be used as a delimiter", s.CSV.Delimiter)
	}
	for _, p := range s.Paths {
		if _, err := filepath.Match(strings.ReplaceAll(p, "**", "*"), ""); err != nil {
			return fmt.Errorf("paths: %q: %w", p, err)
		}
	}
	if len(s.Schema) > 0 {
		if _, err := compileSchema(s.Name, s.Schema); err != nil {
			return fmt.Errorf("schema: %w", err)
		}
	}
	return nil
}

// fileFormat is how one file of a stream is read.
type fileFormat struct {
	format    string
	gzip      bool
	delimiter rune
	latin1    bool
	header    bool
}

// formatOf resolves the format of one file from the stream's config and
// the file's extension.
func (s *StreamConfig) formatOf(path string) (fileFormat, error) {
	f := fileFormat{format: s.Format, delimiter: ',', header: true, latin1: s.CSV.Encoding == encodingLatin1}
	name := strings.ToLower(path)
	if strings.HasSuffix(name, ".gz") {
		f.gzip = true
		name = strings.TrimSuffix(name, ".gz")
	}
	ext := filepath.Ext(name)
	if f.format == "" {
		switch ext {
		case ".csv", ".tsv":
			f.format = formatCSV
		case ".jsonl", ".ndjson":
			f.format = formatJSONL
		case ".json":
			f.format = formatJSON
		default:
			return f, fmt.Errorf("%s: cannot tell the format from the extension %q; set the stream's format", path, ext)
		}
	}
	if ext == ".tsv" {
		f.delimiter = '\t'
	}
	if s.CSV.Delimiter != "" {
		f.delimiter, _ = utf8.DecodeRuneInString(s.CSV.Delimiter)
	}
	if s.CSV.Header != nil {
		f.header = *s.CSV.Header
	}
	return f, nil
}

// compileSchema compiles a self-contained draft 2020-12 schema.
func compileSchema(name string, raw []byte) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("schema refers to %s; it must be self-contained", u)
	}
	u := "mem:///" + name + ".json"
	if err := c.AddResource(u, bytes.NewReader(raw)); err != nil {
		return nil, err
	}
	return c.Compile(u)
}

// decodeJSON decodes exactly one JSON value, keeping numbers as json.Number.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}
