package stage

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Stream names come from connectors: their directory must stay inside the
// source's directory, never collide with the store's own names, and map
// back to the one name it came from.
func FuzzStreamDir(f *testing.F) {
	for _, s := range []string{"contacts", "public.customers", "a/b", "..", ".", "_manifest.json", "_rejects", "Kunden Übersicht", "%41", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		d, err := streamDir(stream)
		if err != nil {
			if stream != "" && len(stream) <= maxStreamDir/3 {
				t.Fatalf("streamDir(%q) = %v", stream, err)
			}
			return
		}
		if d == "" || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00") ||
			strings.HasPrefix(d, "_") || strings.HasPrefix(d, ".") || len(d) > maxStreamDir {
			t.Fatalf("streamDir(%q) = %q: not a safe directory name", stream, d)
		}
		back, err := url.PathUnescape(d)
		if err != nil || back != stream {
			t.Fatalf("streamDir(%q) = %q unescapes to %q, %v: not one to one", stream, d, back, err)
		}
	})
}

// A manifest is read back from disk: damage must give an error, not a
// panic, and a manifest that passes the checks must survive a round trip.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"version":1,"next_seq":3,"state":{"c":1},"streams":{"contacts":{"table":"customer_record","segments":[{"seq":0,"rows":2},{"seq":2,"rows":1}]}},"rejects":[{"seq":1,"rows":1}]}`))
	f.Add([]byte(`{"version":1,"next_seq":1,"streams":{"a":{"table":"order","segments":[{"seq":0},{"seq":0}]}}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"next_seq":1,"streams":{"":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseManifest(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("a valid manifest does not marshal: %v", err)
		}
		if _, err := parseManifest(again); err != nil {
			t.Fatalf("a valid manifest fails after a round trip: %v\n%s", err, again)
		}
	})
}
