package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// sampleSize is how many records schema inference looks at.
const sampleSize = 1000

// inferSchema derives a record schema from the first sampleSize records of
// the stream's files, in read order. CSV values are strings or null; JSON
// types are widened so that the sample's own records validate and close
// variants do too: every field may be null, integers become numbers, and
// a field of mixed types is not restricted.
func inferSchema(s *StreamConfig, paths []string) (json.RawMessage, error) {
	types := map[string]jsonKind{} // field -> JSON types seen
	names := map[string]bool{}     // scratch: the names of a record
	n := 0
	for _, path := range paths {
		if n >= sampleSize {
			break
		}
		ff, err := s.formatOf(path)
		if err != nil {
			return nil, err
		}
		rows, closer, err := openRows(path, ff, nil)
		if err != nil {
			return nil, err
		}
		// Every record of a CSV file has the file's columns, as strings
		// (CSV has no types; mappings convert): its first record says
		// all, the others count.
		csvSeen := false
		for n < sampleSize {
			r, err := rows.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				closer.Close()
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if r.reject != "" {
				continue
			}
			n++
			if ff.format == formatCSV && csvSeen {
				continue
			}
			if err := recordTypes(r, ff.format == formatCSV, names, types); err != nil {
				closer.Close()
				return nil, fmt.Errorf("%s:%d: %w", path, r.line, err)
			}
			csvSeen = ff.format == formatCSV
		}
		closer.Close()
	}
	props := make(map[string]any, len(types))
	for field, kinds := range types {
		props[field] = fieldSchema(kinds)
	}
	schema := map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"properties": props,
		"required":   requiredFields(s),
	}
	return json.Marshal(schema)
}

// closeCSV adds "additionalProperties": false to a stream's inferred
// schema when every file is CSV and the schema lists every file's
// columns: then no record can have another field, and desilo fails a
// mapping of a column the files lack instead of mapping null into every
// record. Otherwise (JSON, whose sample may miss fields; a file the sample
// did not reach; too many files to open at each discovery) the schema is
// left open.
func closeCSV(s *StreamConfig, schema json.RawMessage) json.RawMessage {
	var sch map[string]any
	paths, err := expand(s.Paths)
	if err != nil || len(paths) == 0 || len(paths) > sampleSize || json.Unmarshal(schema, &sch) != nil {
		return schema
	}
	props, _ := sch["properties"].(map[string]any)
	for _, path := range paths {
		ff, err := s.formatOf(path)
		if err != nil || ff.format != formatCSV {
			return schema
		}
		rows, closer, err := openRows(path, ff, nil)
		if err != nil {
			return schema
		}
		_, err = rows.next() // reads the header
		cols := rows.(*csvRows).cols
		closer.Close()
		if err != nil && !errors.Is(err, io.EOF) || len(cols) == 0 {
			return schema
		}
		for _, col := range cols {
			if _, ok := props[col]; !ok {
				return schema
			}
		}
	}
	sch["additionalProperties"] = false
	closed, err := json.Marshal(sch)
	if err != nil {
		return schema
	}
	return closed
}

// recordTypes adds the JSON types of a record's fields to types: each
// field's as jsonType says of the decoded record, or string for CSV. A row
// whose members' names hold no escapes is read from its members, where the
// last of members of one name is the field (as encoding/json decodes it);
// any other is decoded. names is scratch.
func recordTypes(r row, csv bool, names map[string]bool, types map[string]jsonKind) error {
	if r.fast && !slices.ContainsFunc(r.members, func(m member) bool { return m.escaped }) {
		clear(names)
		for i := len(r.members) - 1; i >= 0; i-- {
			m := r.members[i]
			if names[string(m.key)] {
				continue
			}
			name := string(m.key)
			names[name] = true
			k := kindOf(m.value)
			if csv {
				k = kindString
			}
			types[name] |= k
		}
		return nil
	}
	value, err := decodeObject(r.data)
	if err != nil {
		return err
	}
	for k, v := range value {
		t := jsonType(v)
		if csv {
			t = "string"
		}
		types[k] |= kindNamed[t]
	}
	return nil
}

// kindNamed is the kind of each JSON Schema type.
var kindNamed = map[string]jsonKind{
	"null": kindNull, "boolean": kindBoolean, "number": kindNumber,
	"string": kindString, "array": kindArray, "object": kindObject,
}

// fieldSchema is the schema of one field seen with the given types.
func fieldSchema(kinds jsonKind) map[string]any {
	kinds &^= kindNull
	for t, k := range kindNamed {
		if kinds == k {
			return map[string]any{"type": []string{t, "null"}}
		}
	}
	return map[string]any{} // mixed, or only null: anything goes
}

func requiredFields(s *StreamConfig) []string {
	req := slices.Clone(s.PrimaryKey)
	if s.CursorField != "" && !slices.Contains(req, s.CursorField) {
		req = append(req, s.CursorField)
	}
	return req
}

// jsonType is the JSON Schema type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number" // not integer: a sample of whole numbers may meet a fraction
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}
