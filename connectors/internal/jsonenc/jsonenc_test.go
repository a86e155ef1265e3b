package jsonenc

import (
	"encoding/json"
	"testing"
)

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "Anna", `"\<>&`, "\u2028\u2029", "\x00\x01\b\f\n\r\t\x1f\x7f", "J\xfcrgen", "😀", "\xed\xa0\x80", "\xe2\x80", "a\"<b>&\\\n\t\x01\x7f é\u2028\u2029\xff😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal gives %s", s, got[1:], want)
		}
		if got := AppendBytes([]byte("x"), []byte(s)); string(got) != "x"+string(want) {
			t.Fatalf("AppendBytes(%q) = %s, json.Marshal gives %s", s, got[1:], want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := "Kaffeemühle Keramik, Goethestraße 113 <nadine_herrmann@webkiste.de>"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
