package imap

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// fillAll sets every field reachable from v to a non-zero value, so a
// field added to Record and forgotten in appendRecord fails the test.
func fillAll(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int64, reflect.Int:
		v.SetInt(-42)
	case reflect.Uint32:
		v.SetUint(4294967295)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), s)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fillAll(v.Index(0), s)
		fillAll(v.Index(1), "")
	case reflect.Struct:
		for i := range v.NumField() {
			fillAll(v.Field(i), s)
		}
	default:
		panic("fillAll: no case for " + v.Kind().String())
	}
}

func TestAppendRecordMatchesJSON(t *testing.T) {
	var full Record
	fillAll(reflect.ValueOf(&full).Elem(), "a\"<b>&\\\n\t\x01\x7f é\u2028\u2029\xff😀")
	offset := int64(0)
	body := ""
	for _, tc := range []struct {
		name string
		r    Record
	}{
		{"zero", Record{}},
		{"every field set", full},
		{"empty lists, empty body, offset 0", Record{From: []Address{}, To: []Address{{Address: "a@b"}}, Cc: []Address{}, Bcc: []Address{},
			Flags: []string{}, References: []string{}, Body: &body, Offset: &offset}},
	} {
		want, err := json.Marshal(&tc.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRecord([]byte("prefix"), &tc.r); !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%s:\n got %s\nwant prefix%s", tc.name, got, want)
		}
	}
}
