package sql

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestKeyArgRoundTrip checks that a key value written by appendValue and
// read back by keyArg is the same value, for every kind a key may have.
func TestKeyArgRoundTrip(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	cases := []struct {
		kind kind
		in   any
		want any
	}{
		{kindInt, int64(-42), int64(-42)},
		{kindInt, uint64(18446744073709551615), uint64(18446744073709551615)},
		{kindInt, []byte("9007199254740993"), int64(9007199254740993)},
		{kindDecimal, "12345678901234567890.123456", "12345678901234567890.123456"},
		{kindDecimal, []byte("-0.5"), "-0.5"},
		{kindFloat, 0.1, 0.1},
		{kindFloat32, float64(float32(1.1)), float64(float32(1.1))},
		{kindFloat32, float32(123456.78), float64(float32(123456.78))},
		{kindBool, true, true},
		{kindTimestamp, ts, ts},
		{kindTimestamp, ts.In(time.FixedZone("x", 7200)), ts},
		{kindDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{kindString, []byte("héllo \"q\""), "héllo \"q\""},
		{kindBytes, []byte{0, 255, 7}, []byte{0, 255, 7}},
	}
	for _, tc := range cases {
		b, err := appendValue(nil, tc.kind, tc.in, false)
		if err != nil {
			t.Fatalf("appendValue(%v %#v): %v", tc.kind, tc.in, err)
		}
		got, err := keyArg(tc.kind, b)
		if err != nil {
			t.Fatalf("keyArg(%v, %s): %v", tc.kind, b, err)
		}
		if gt, ok := got.(time.Time); ok {
			if !gt.Equal(tc.want.(time.Time)) {
				t.Errorf("%s: got %v, want %v", b, gt, tc.want)
			}
			continue
		}
		if gb, ok := got.([]byte); ok {
			if string(gb) != string(tc.want.([]byte)) {
				t.Errorf("%s: got %v, want %v", b, gb, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %#v, want %#v", b, got, tc.want)
		}
	}
}

func TestAppendValueRejects(t *testing.T) {
	cases := []struct {
		kind kind
		in   any
		want string
	}{
		{kindDecimal, "NaN", "not a finite number"},
		{kindDecimal, "Infinity", "not a finite number"},
		{kindInt, []byte("12a"), "not an integer"},
		{kindString, []byte{0xff, 0xfe}, "not valid UTF-8"},
		{kindJSON, []byte("{bad"), "invalid JSON"},
		{kindTimestamp, "infinity", "not a date or timestamp"},
		{kindBool, "yes", "unexpected string"},
		{kindTimestamp, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "year 10000"},
	}
	for _, tc := range cases {
		_, err := appendValue(nil, tc.kind, tc.in, false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("appendValue(%v, %#v) error = %v, want %q", tc.kind, tc.in, err, tc.want)
		}
	}
	// A MySQL zero date's saved key is MySQL's text, passed back as it is.
	for _, k := range []kind{kindDate, kindTimestamp} {
		if got, err := keyArg(k, zeroDateKey(k)); err != nil || !strings.HasPrefix(fmt.Sprint(got), "0000-00-00") {
			t.Errorf("keyArg(%v, %s) = %v, %v; want MySQL's zero date text", k, zeroDateKey(k), got, err)
		}
	}
	// MySQL zero dates are null; PostgreSQL's year 1 is a date.
	if b, err := appendValue(nil, kindTimestamp, time.Time{}, true); err != nil || string(b) != "null" {
		t.Errorf("MySQL zero date = %s, %v; want null", b, err)
	}
	if b, err := appendValue(nil, kindDate, time.Time{}, false); err != nil || string(b) != `"0001-01-01"` {
		t.Errorf("PostgreSQL 0001-01-01 = %s, %v", b, err)
	}
}

// FuzzIsJSONNumber checks isJSONNumber against encoding/json's grammar.
func FuzzIsJSONNumber(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "1e10", "01", ".5", "1.", "NaN", "-", "1E+2", " 1", "12345678901234567890.1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var n json.Number
		isNumber := json.Valid([]byte(s)) && json.Unmarshal([]byte(s), &n) == nil && string(n) == s
		if got := isJSONNumber(s); got != isNumber {
			t.Errorf("isJSONNumber(%q) = %v, encoding/json says %v", s, got, isNumber)
		}
	})
}

// FuzzDecodeState checks that any saved state either decodes into a state
// whose positions can be turned into query parameters, or is refused; it
// never panics.
func FuzzDecodeState(f *testing.F) {
	f.Add([]byte(`{"streams":{"a":{"keys":["u","id"],"last":["2024-01-02T03:04:05Z",7]}}}`))
	f.Add([]byte(`{"streams":{"a":null}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"streams":{"a":{"keys":["id"],"last":[]}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := decodeState(raw)
		if err != nil {
			return
		}
		for _, ss := range st.Streams {
			if len(ss.Keys) != len(ss.Last) {
				t.Fatalf("accepted a state with %d keys and %d values", len(ss.Keys), len(ss.Last))
			}
			for _, v := range ss.Last {
				for k := kindString; k <= kindBytes; k++ {
					keyArg(k, v) // must not panic
				}
			}
		}
	})
}

// FuzzParseTimeText checks that text the drivers give for dates either
// parses to a time that prints back in the same instant, or is refused.
func FuzzParseTimeText(f *testing.F) {
	for _, s := range []string{"2024-01-02 03:04:05", "2024-01-02 03:04:05.123456", "2024-02-29", "0000-00-00 00:00:00", "infinity", "2024-01-02T03:04:05+02:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, null, err := parseTimeText(s, true)
		if err != nil || null {
			return
		}
		b, err := appendValue(nil, kindTimestamp, tm, true)
		if err != nil {
			t.Fatalf("%q parsed to %v, which does not encode: %v", s, tm, err)
		}
		back, err := keyArg(kindTimestamp, b)
		if err != nil {
			t.Fatalf("%q → %s does not read back: %v", s, b, err)
		}
		if !back.(time.Time).Equal(tm) {
			t.Fatalf("%q → %s → %v, want %v", s, b, back, tm)
		}
	})
}
