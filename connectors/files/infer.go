package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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
	types := map[string]map[string]bool{} // field -> JSON types seen
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
			value, err := decodeObject(r.data)
			if err != nil {
				closer.Close()
				return nil, fmt.Errorf("%s:%d: %w", path, r.line, err)
			}
			n++
			for k, v := range value {
				if types[k] == nil {
					types[k] = map[string]bool{}
				}
				if ff.format == formatCSV {
					types[k]["string"] = true // CSV has no types; mappings convert
					continue
				}
				types[k][jsonType(v)] = true
			}
		}
		closer.Close()
	}
	props := make(map[string]any, len(types))
	for field, seen := range types {
		props[field] = fieldSchema(seen)
	}
	schema := map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"type":       "object",
		"properties": props,
		"required":   requiredFields(s),
	}
	return json.Marshal(schema)
}

// fieldSchema is the schema of one field seen with the given types.
func fieldSchema(seen map[string]bool) map[string]any {
	delete(seen, "null")
	if len(seen) != 1 {
		return map[string]any{} // mixed, or only null: anything goes
	}
	t := slices.Collect(maps.Keys(seen))[0]
	return map[string]any{"type": []string{t, "null"}}
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
