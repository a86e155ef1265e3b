package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The scanner is checked against encoding/json: same verdict on syntax,
// same values at every path.

var scanPaths = []string{"a", "a.b", "a.0", "a.1.b", "a[]", "a[].b", "b.c.d", "c[][]", `x\.y`, "0", "é"}

// reference finds the values at a path in a document decoded by
// encoding/json: what the scanner must agree with.
func reference(v any, steps []step, out []any) []any {
	if len(steps) == 0 {
		return append(out, v)
	}
	s, rest := steps[0], steps[1:]
	switch v := v.(type) {
	case map[string]any:
		if c, ok := v[s.key]; ok && !s.each {
			return reference(c, rest, out)
		}
	case []any:
		if s.each {
			for _, e := range v {
				out = reference(e, rest, out)
			}
		} else if s.index >= 0 && s.index < len(v) {
			return reference(v[s.index], rest, out)
		}
	}
	return out
}

func decodeNumber(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

// hasDuplicateNames reports whether an object in a valid document repeats
// a member name; what then wins is undefined in JSON, and encoding/json
// replaces whole values while the scanner keeps leaves.
func hasDuplicateNames(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next token in this object is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name := tok.(string)
			if top.names[name] {
				return true
			}
			top.names[name] = true
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, &frame{object: true, names: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		}
	}
}

func checkScan(t *testing.T, data []byte) {
	c := &compiler{root: newNode()}
	slots := map[string]*node{}
	for _, p := range scanPaths {
		n, err := c.path(p)
		if err != nil {
			t.Fatal(err)
		}
		slots[p] = n
	}
	st := newState(c.slots)
	st.reset(data)
	err := st.sc.record(c.root)

	doc, derr := decodeNumber(data)
	_, isObject := doc.(map[string]any)
	var se *syntaxError
	switch {
	case err != nil && strings.Contains(err.Error(), "nested deeper"):
		return // encoding/json allows deeper nesting
	case err != nil && !errors.As(err, &se):
		t.Fatalf("scan error of the wrong type: %v", err)
	case (err == nil) != (derr == nil && isObject):
		t.Fatalf("scanner says %v, encoding/json says %v (object: %v) for %q", err, derr, isObject, data)
	case err != nil || hasDuplicateNames(data):
		return
	}
	for _, p := range scanPaths {
		steps, _ := parsePath(p)
		want := reference(doc, steps, nil)
		n := slots[p]
		var spans []span
		if n.list {
			spans = st.sc.lists[n.slot]
		} else if sp := st.sc.spans[n.slot]; sp.start >= 0 {
			spans = []span{sp}
		}
		var got []any
		for _, sp := range spans {
			v, err := decodeNumber(data[sp.start:sp.end])
			if err != nil {
				t.Fatalf("path %s: span %q: %v", p, data[sp.start:sp.end], err)
			}
			got = append(got, v)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("path %s in %s: scanner %#v, encoding/json %#v", p, data, got, want)
		}
	}
}

var scanCorpus = []string{
	`{}`,
	`{"a":1}`,
	`{"a":{"b":"x"},"b":{"c":{"d":[1,2]}}}`,
	`{"a":[{"b":1},{"c":2},{"b":[true,null]}],"c":[[1,2],[],[3]]}`,
	`{"a":["zero",{"b":"one"}],"x.y":"dot","x":{"y":"nested"}}`,
	` { "a" : { "0" : "member" , "b" : -1.5e+3 } } `,
	`{"\u0061":"escaped name","é":"\u00e9","0":0}`,
	`{"a":"\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"}`,
	`{"a":[1,2,]}`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":-}`,
	`{"a":tru}`,
	`{"a":"\x"}`,
	`{"a":"` + "\x01" + `"}`,
	`{"a":1}x`,
	`{"a" 1}`,
	`{"a":[1 2]}`,
	`{"a":{"b":1}`,
	`["a"]`,
	`"a"`,
	``,
	`{"a":"\ud800"}`,
	"{\"a\":\"\xff\"}",
}

func TestScanAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range scanCorpus {
		checkScan(t, []byte(s))
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range scanCorpus {
		f.Add([]byte(s))
	}
	f.Fuzz(checkScan)
}

func TestUnescapeAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{`""`, `"plain"`, `"\u00e9\u20ac"`, `"\ud83d\ude00"`, `"\ud83d x"`, `"\ude00"`, `"\ud83d\u0041"`, "\"a\xffb\xc3\"", `"\"\\\/\b\f\n\r\t"`} {
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if got := string(unescape(nil, []byte(s[1:len(s)-1]))); got != want {
			t.Errorf("unescape(%s) = %q, want %q", s, got, want)
		}
	}
}

// checkRFC3339 compares the allocation-free parser with time.Parse on the
// forms both read ('T' separator, upper-case Z).
func checkRFC3339(t *testing.T, s string) {
	got, err := parseRFC3339([]byte(s), false)
	want, werr := time.Parse(time.RFC3339Nano, s)
	if strings.ContainsAny(s, "tz ,") || len(s) > 10 && s[10] != 'T' || len(s) > 12 && !isDigits(s[11:13]) {
		// Forms only one side reads: RFC 3339 allows 't', 'z' and a space
		// (parseRFC3339 reads them); time.Parse also reads a ',' fraction
		// and a one-digit hour, which RFC 3339 does not allow.
		return
	}
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: parseRFC3339 error %v, time.Parse error %v", s, err, werr)
	}
	if err == nil && !got.Equal(want) {
		t.Fatalf("%q: parseRFC3339 %v, time.Parse %v", s, got, want)
	}
}

var rfc3339Corpus = []string{
	"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456789Z", "2024-01-02T03:04:05.1+01:30",
	"2024-02-29T00:00:00-12:00", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-02T24:00:00Z",
	"2024-01-02T03:04:60Z", "2024-01-02T03:04:05", "2024-01-02T03:04:05+0100", "2024-01-02T03:04:05.Z",
	"2024-01-02T03:04:05.1234567891Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999+23:59",
	"2024-01-02T03:04:05+24:00", "+2024-01-02T03:04:05Z", "2024-1-02T03:04:05Z",
	"2024-01-01T00:00:00+00:60", "2024-01-01T00:00:00-24:60", "2024-01-01T00:00:00+00:61", "2024-01-01T00:00:00+25:00",
}

func TestRFC3339AgreesWithTimeParse(t *testing.T) {
	for _, s := range rfc3339Corpus {
		checkRFC3339(t, s)
	}
	for _, s := range []string{"2024-01-02t03:04:05z", "2024-01-02 03:04:05+01:00"} {
		if _, err := parseRFC3339([]byte(s), false); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func FuzzRFC3339(f *testing.F) {
	for _, s := range rfc3339Corpus {
		f.Add(s)
	}
	f.Fuzz(checkRFC3339)
}

func isDigits(s string) bool {
	_, ok := atoi([]byte(s))
	return ok
}
