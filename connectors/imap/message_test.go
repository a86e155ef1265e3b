package imap

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestParseHeaders(t *testing.T) {
	cfg := &Config{OwnAddresses: []string{"sales@acme.example", "@corp.example"}}
	for _, tc := range []struct {
		name    string
		header  string
		sent    bool
		check   func(*Record) bool
		explain string
	}{
		{"Q encoded Latin-1 name", "From: =?ISO-8859-1?Q?Andr=E9?= <a@x.org>\n\n", false,
			func(r *Record) bool { return r.From[0] == Address{"André", "a@x.org"} }, "from"},
		{"B encoded UTF-8 subject across words", "Subject: =?UTF-8?B?w4Q=?= =?UTF-8?B?w5Y=?= x\n\n", false,
			func(r *Record) bool { return r.Subject == "ÄÖ x" }, "subject"},
		{"windows-1252 charset", "Subject: =?windows-1252?Q?=80_100?=\n\n", false,
			func(r *Record) bool { return r.Subject == "€ 100" }, "subject"},
		{"unknown charset kept raw", "Subject: =?x-unknown?Q?abc?=\n\n", false,
			func(r *Record) bool { return r.Subject == "=?x-unknown?Q?abc?=" }, "subject"},
		{"sloppy list keeps every address", "To: a@x.org,, \"B\" <b@x.org>, broken <c@x.org\n\n", false,
			func(r *Record) bool {
				return slices.Equal(r.To, []Address{{Address: "a@x.org"}, {Name: "B", Address: "b@x.org"}, {Address: "c@x.org"}})
			}, "to"},
		{"semicolons and spaces between addresses", "From: sales@acme.example\nTo: sales@acme.example; customer@example.com\nCc: d@x.org e@x.org\n\n", false,
			func(r *Record) bool {
				return slices.Equal(r.To, []Address{{Address: "sales@acme.example"}, {Address: "customer@example.com"}}) &&
					slices.Equal(r.Cc, []Address{{Address: "d@x.org"}, {Address: "e@x.org"}}) && r.Counterpart == "customer@example.com"
			}, "to, cc and counterpart"},
		{"inbound counterpart is the sender", "From: c@x.org\nTo: sales@acme.example\n\n", false,
			func(r *Record) bool { return r.Direction == "in" && r.Counterpart == "c@x.org" }, "direction"},
		{"own domain makes it outbound", "From: Bob <BOB@Corp.Example>\nTo: c@x.org\n\n", false,
			func(r *Record) bool { return r.Direction == "out" && r.Counterpart == "c@x.org" }, "direction"},
		{"sent mailbox: first recipient not own", "From: c@x.org\nTo: sales@acme.example\nCc: d@x.org\n\n", true,
			func(r *Record) bool { return r.Direction == "out" && r.Counterpart == "d@x.org" }, "counterpart"},
		{"bare message ids", "Message-ID: abc@x.org\nIn-Reply-To: <p@x.org> (comment)\n\n", false,
			func(r *Record) bool {
				return r.MessageID == "abc@x.org" && r.InReplyTo == "p@x.org" && r.ThreadID == "p@x.org"
			}, "ids"},
		{"obsolete date form", "Date: 6 Mar 2023 10:00 GMT\n\n", false,
			func(r *Record) bool { return r.Date == "2023-03-06T10:00:00Z" }, "date"},
		{"unreadable date falls back", "Date: sometime\n\n", false,
			func(r *Record) bool { return r.Date == "2020-01-01T00:00:00Z" }, "date"},
		{"no header end", "Subject: only", false,
			func(r *Record) bool { return r.Subject == "only" }, "subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newParser(cfg).parse(rawMessage{header: []byte(tc.header), fallback: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, tc.sent)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(r) {
				b, _ := json.Marshal(r)
				t.Errorf("%s wrong: %s", tc.explain, b)
			}
		})
	}
}

func TestParseRejectsBrokenHeader(t *testing.T) {
	if _, err := newParser(&Config{}).parse(rawMessage{header: []byte("no colon in this line\n\n")}, false); err == nil {
		t.Error("a header line without a colon parsed")
	}
}

func TestCutUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 2, "ab"},
		{"aß", 2, "a"},
		{"a€b", 3, "a"},
		{"a€b", 4, "a€"},
		{"😀", 3, ""},
	} {
		if got := string(cutUTF8([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("cutUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestFromLineDate(t *testing.T) {
	for line, want := range map[string]string{
		"From a@b.c Mon Jan  2 15:04:05 2023":         "2023-01-02T15:04:05Z",
		"From MAILER-DAEMON Tue Feb 28 08:00:00 2023": "2023-02-28T08:00:00Z",
		"From a@b.c":         "",
		"From a b c d e f g": "",
	} {
		got := ""
		if d := fromLineDate(line); !d.IsZero() {
			got = d.Format(time.RFC3339)
		}
		if got != want {
			t.Errorf("fromLineDate(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		config string
		ok     bool
		port   int
	}{
		{`{"host": "h", "username": "u", "password": "p"}`, true, 993},
		{`{"host": "h", "username": "u", "password": "p", "tls": "starttls"}`, true, 143},
		{`{"host": "h", "username": "u", "password": "p", "tls": "none", "insecure": true}`, true, 143},
		{`{"host": "h", "username": "u", "password": "p", "tls": "none"}`, false, 0},
		{`{"host": "h", "username": "u"}`, false, 0},
		{`{"mbox": ["x"], "tls": "ssl"}`, false, 0},
		{`{"mbox": ["x"], "extra": true}`, false, 0},
		{`{}`, false, 0},
	} {
		cfg, err := parseConfig(json.RawMessage(tc.config))
		if (err == nil) != tc.ok {
			t.Errorf("parseConfig(%s): err %v, want ok %v", tc.config, err, tc.ok)
			continue
		}
		if tc.ok && (cfg.Port != tc.port || !slices.Equal(cfg.Mailboxes, []string{"INBOX"}) || cfg.BatchSize != defaultBatchSize) {
			t.Errorf("parseConfig(%s) defaults: %+v", tc.config, cfg)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("From: =?ISO-8859-1?Q?J=FCrgen?= <j@x.org>\r\nTo: a@b.c, \"x, y\" <d@e.f>\r\nSubject: =?UTF-8?B?w4Q=?=\r\nReferences: <a@b> <c@d>\r\n\r\nbody"))
	f.Add([]byte("Subject: Pr\xe4sentation\n\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\n--b--\n"))
	cfg := &Config{Bodies: true, BodyMaxBytes: 32, OwnAddresses: []string{"@b.c"}}
	f.Fuzz(func(t *testing.T, in []byte) {
		header, body := splitHeader(in)
		r, err := newParser(cfg).parse(rawMessage{header: header, text: body, size: int64(len(in))}, len(in)%2 == 0)
		if err != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil || !json.Valid(b) {
			t.Fatalf("record does not encode: %v", err)
		}
		if r.Body == nil || len(*r.Body) > 32 {
			t.Fatalf("body %v exceeds 32 bytes", r.Body)
		}
	})
}
