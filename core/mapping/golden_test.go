package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/desilo/desilo/plugins/connector"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenCase is one testdata/*.yaml file: a stream, a mapping written as
// in desilo.yaml, and records.
type goldenCase struct {
	Stream  connector.Stream  `json:"stream"`
	Mapping connector.Mapping `json:"mapping"`
	Records []struct {
		Data    string `json:"data"`
		Deleted bool   `json:"deleted"`
	} `json:"records"`
}

// TestGolden maps each case's records and compares one JSON line per
// record (its non-nil columns, or its reject reason) with the .golden file.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			c := readCase(t, file)
			got := runCase(t, c)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// readCase reads YAML the way desilo.yaml is read: YAML to JSON, then
// strict JSON decoding, so a bare string is a path here too.
func readCase(t *testing.T, file string) goldenCase {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var c goldenCase
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

func runCase(t *testing.T, c goldenCase) []byte {
	t.Helper()
	var out bytes.Buffer
	p, err := Compile(c.Stream, c.Mapping)
	if err != nil {
		out.WriteString("compile error:\n" + err.Error() + "\n")
		return out.Bytes()
	}
	row := make([]any, len(p.Table().Columns))
	for _, r := range c.Records {
		var line any
		err := p.Map("src", connector.Record{Stream: c.Stream.Name, Data: []byte(r.Data), Deleted: r.Deleted}, row)
		var re *RejectError
		switch {
		case errors.As(err, &re):
			line = map[string]string{"reject": re.Reason}
		case err != nil:
			t.Fatalf("Map(%s): %v", r.Data, err)
		default:
			line = renderRow(p, row)
		}
		b, err := json.Marshal(line)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// renderRow shows a row's non-nil values by column, with Go types spelled
// out where JSON would blur them.
func renderRow(p *Plan, row []any) map[string]any {
	m := map[string]any{}
	for i, c := range p.Table().Columns {
		switch v := row[i].(type) {
		case nil:
		case time.Time:
			m[c.Name] = "time " + v.Format(time.RFC3339Nano) + " " + v.Location().String()
		case int64:
			m[c.Name] = map[string]int64{"int64": v}
		case float64:
			m[c.Name] = map[string]float64{"float64": v}
		default:
			m[c.Name] = v
		}
	}
	return m
}
