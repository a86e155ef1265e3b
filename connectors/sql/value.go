package sql

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is how a column's values are written to JSON.
type kind int

const (
	kindString    kind = iota // text, char, enum, uuid, time, arrays, anything unknown: its text form
	kindInt                   // JSON number
	kindDecimal               // JSON number with the database's exact digits, never via float64
	kindFloat                 // JSON number
	kindFloat32               // JSON number, the shortest digits of a 32-bit float
	kindBool                  // JSON boolean
	kindTimestamp             // RFC 3339 string in UTC (format date-time)
	kindDate                  // YYYY-MM-DD string (format date)
	kindJSON                  // the JSON value as stored
	kindBytes                 // standard base64 string
)

// schema returns the JSON Schema of a column of this kind.
func (k kind) schema(nullable bool) map[string]any {
	var s map[string]any
	switch k {
	case kindInt:
		s = map[string]any{"type": "integer"}
	case kindDecimal, kindFloat, kindFloat32:
		s = map[string]any{"type": "number"}
	case kindBool:
		s = map[string]any{"type": "boolean"}
	case kindTimestamp:
		s = map[string]any{"type": "string", "format": "date-time"}
	case kindDate:
		s = map[string]any{"type": "string", "format": "date"}
	case kindJSON:
		return map[string]any{} // any JSON value, null included
	case kindBytes:
		s = map[string]any{"type": "string", "contentEncoding": "base64"}
	default:
		s = map[string]any{"type": "string"}
	}
	if nullable {
		s["type"] = []any{s["type"], "null"}
	}
	return s
}

// usableAsKey says whether a column of this kind can be a cursor or a
// primary key column: its values must compare in the database the same way
// they round-trip through the saved state.
func (k kind) usableAsKey() bool { return k != kindJSON }

// errNotRepresentable marks a value that has no JSON form of its column's
// kind: the row is rejected, not silently altered.
var errNotRepresentable = errors.New("value has no JSON form")

// mysqlDateTimeLayout is how MySQL writes DATETIME and TIMESTAMP as text.
const mysqlDateTimeLayout = "2006-01-02 15:04:05.999999999"

// appendValue appends the JSON form of a value database/sql returned for a
// column of kind k. zeroTimeIsNull is true for MySQL, whose zero dates mean
// "no date" (PostgreSQL's 0001-01-01 is a real date).
func appendValue(buf []byte, k kind, v any, zeroTimeIsNull bool) ([]byte, error) {
	if v == nil {
		return append(buf, "null"...), nil
	}
	switch k {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return strconv.AppendInt(buf, x, 10), nil
		case uint64:
			return strconv.AppendUint(buf, x, 10), nil
		case []byte:
			return appendIntText(buf, string(x))
		case string:
			return appendIntText(buf, x)
		}
	case kindDecimal, kindFloat, kindFloat32:
		switch x := v.(type) {
		case float64:
			if k == kindFloat32 {
				// pgx hands a real over as a float64: 1.1 would be
				// 1.100000023841858.
				return appendFloat(buf, x, 32)
			}
			return appendFloat(buf, x, 64)
		case float32:
			return appendFloat(buf, float64(x), 32)
		case int64:
			return strconv.AppendInt(buf, x, 10), nil
		case []byte:
			return appendNumberText(buf, string(x))
		case string:
			return appendNumberText(buf, x)
		}
	case kindBool:
		switch x := v.(type) {
		case bool:
			return strconv.AppendBool(buf, x), nil
		case int64:
			return strconv.AppendBool(buf, x != 0), nil
		}
	case kindTimestamp:
		t, null, err := toTime(v, zeroTimeIsNull)
		if err != nil || null {
			return appendNullOr(buf, null, err)
		}
		return strconv.AppendQuote(buf, t.UTC().Format(time.RFC3339Nano)), nil
	case kindDate:
		t, null, err := toTime(v, zeroTimeIsNull)
		if err != nil || null {
			return appendNullOr(buf, null, err)
		}
		return strconv.AppendQuote(buf, t.Format(time.DateOnly)), nil
	case kindJSON:
		b, ok := v.([]byte)
		if s, isStr := v.(string); isStr {
			b, ok = []byte(s), true
		}
		if !ok || !json.Valid(b) {
			return buf, fmt.Errorf("%w: invalid JSON", errNotRepresentable)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			return buf, fmt.Errorf("%w: %v", errNotRepresentable, err)
		}
		return append(buf, compact.Bytes()...), nil
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			return appendJSONString(buf, base64.StdEncoding.EncodeToString(x))
		case string:
			return appendJSONString(buf, base64.StdEncoding.EncodeToString([]byte(x)))
		}
	default:
		switch x := v.(type) {
		case []byte:
			return appendJSONString(buf, string(x))
		case string:
			return appendJSONString(buf, x)
		case time.Time:
			return appendJSONString(buf, x.UTC().Format(time.RFC3339Nano))
		default:
			return appendJSONString(buf, fmt.Sprint(x))
		}
	}
	return buf, fmt.Errorf("%w: unexpected %T from the driver", errNotRepresentable, v)
}

func appendNullOr(buf []byte, null bool, err error) ([]byte, error) {
	if err != nil {
		return buf, err
	}
	return append(buf, "null"...), nil
}

func appendIntText(buf []byte, s string) ([]byte, error) {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return buf, fmt.Errorf("%w: %q is not an integer", errNotRepresentable, s)
		}
	}
	return append(buf, s...), nil
}

// appendNumberText appends a decimal as given, after checking it is a JSON
// number: PostgreSQL's NaN and Infinity are not.
func appendNumberText(buf []byte, s string) ([]byte, error) {
	if !isJSONNumber(s) {
		return buf, fmt.Errorf("%w: %q is not a finite number", errNotRepresentable, s)
	}
	return append(buf, s...), nil
}

func appendFloat(buf []byte, f float64, bits int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, fmt.Errorf("%w: %v is not a finite number", errNotRepresentable, f)
	}
	return strconv.AppendFloat(buf, f, 'g', -1, bits), nil
}

func appendJSONString(buf []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return buf, fmt.Errorf("%w: text is not valid UTF-8", errNotRepresentable)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}

// toTime turns a driver's date or timestamp value into a time. MySQL
// without parseTime=true, and zone-less text, gives text read as UTC.
func toTime(v any, zeroTimeIsNull bool) (t time.Time, null bool, err error) {
	switch x := v.(type) {
	case time.Time:
		t, null = x, zeroTimeIsNull && x.IsZero()
	case []byte:
		t, null, err = parseTimeText(string(x), zeroTimeIsNull)
	case string:
		t, null, err = parseTimeText(x, zeroTimeIsNull)
	default:
		return time.Time{}, false, fmt.Errorf("%w: unexpected %T from the driver", errNotRepresentable, v)
	}
	if err == nil && !null && (t.Year() < 0 || t.Year() > 9999) {
		// PostgreSQL allows BC and far-future dates; RFC 3339 does not.
		return time.Time{}, false, fmt.Errorf("%w: year %d is outside RFC 3339's 0000-9999", errNotRepresentable, t.Year())
	}
	return t, null, err
}

func parseTimeText(s string, zeroTimeIsNull bool) (time.Time, bool, error) {
	if zeroTimeIsNull && strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, true, nil
	}
	for _, layout := range []string{mysqlDateTimeLayout, time.DateOnly, time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, false, nil
		}
	}
	// PostgreSQL's infinity and -infinity have no RFC 3339 form.
	return time.Time{}, false, fmt.Errorf("%w: %q is not a date or timestamp", errNotRepresentable, s)
}

// inLocation reads a zone-less date-time the driver returned as UTC (a
// time or text) as the same wall-clock time in loc. Zero dates and text
// that is not a date-time are left as they are.
func inLocation(v any, loc *time.Location) any {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return v
		}
		t = x
	case []byte, string:
		var s string
		if b, ok := x.([]byte); ok {
			s = string(b)
		} else {
			s = x.(string)
		}
		p, null, err := parseTimeText(s, true)
		if err != nil || null {
			return v
		}
		t = p
	default:
		return v
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// mysqlZeroDate is how MySQL writes its zero date.
const mysqlZeroDate = "0000-00-00"

// zeroDateKey is the saved key of a MySQL zero date in a key column of
// kind k (its JSON in a record is null): MySQL's own text, which keyArg
// passes back as it is. Nil for other kinds.
func zeroDateKey(k kind) json.RawMessage {
	switch k {
	case kindDate:
		return json.RawMessage(`"` + mysqlZeroDate + `"`)
	case kindTimestamp:
		return json.RawMessage(`"` + mysqlZeroDate + ` 00:00:00"`)
	}
	return nil
}

// keyArg turns a key value saved in the state (the JSON this connector
// emitted for it) back into a query parameter that compares in the
// database exactly like the original value.
func keyArg(k kind, raw json.RawMessage) (any, error) {
	if string(raw) == "null" || len(raw) == 0 {
		return nil, errors.New("key value is null")
	}
	switch k {
	case kindInt:
		s := string(raw)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
		return nil, fmt.Errorf("%s is not an integer", s)
	case kindDecimal:
		// Passed as text so no digit is lost; both databases convert it to
		// the column's type.
		if !isJSONNumber(string(raw)) {
			return nil, fmt.Errorf("%s is not a number", raw)
		}
		return string(raw), nil
	case kindFloat:
		var f float64
		err := json.Unmarshal(raw, &f)
		return f, err
	case kindFloat32:
		// The column's own value: 1.1 is the float32 nearest to it.
		if !isJSONNumber(string(raw)) {
			return nil, fmt.Errorf("%s is not a number", raw)
		}
		f, err := strconv.ParseFloat(string(raw), 32)
		return f, err
	case kindBool:
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case kindTimestamp, kindDate:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if strings.HasPrefix(s, mysqlZeroDate) {
			return s, nil // see zeroDateKey
		}
		layout := time.RFC3339Nano
		if k == kindDate {
			layout = time.DateOnly
		}
		return time.Parse(layout, s)
	case kindBytes:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return base64.StdEncoding.DecodeString(s)
	case kindJSON:
		return nil, errors.New("a JSON column cannot be a key")
	default:
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
}
