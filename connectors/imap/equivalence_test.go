package imap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// legacyReadMbox is what Read emitted for one mbox file before the fast
// paths: legacyMboxReader, legacyParse, encoding/json.
func legacyReadMbox(t *testing.T, cfg *Config, path string) ([]connector.Record, []connector.Reject) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []connector.Record
	var rejects []connector.Reject
	mailbox := mboxMailbox(path)
	sent := cfg.isSent(mailbox, nil)
	keep := 1 << 20
	if cfg.Bodies {
		keep += int(cfg.rawLimit())
	}
	r := newLegacyMboxReader(bytes.NewReader(b), 0, keep)
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, rejects
		}
		if err != nil {
			t.Fatal(err)
		}
		header, body := splitHeader(m.data)
		raw := rawMessage{header: header, size: m.size, fromLine: m.fromLine, mailbox: mailbox}
		if cfg.Bodies {
			raw.text = body
			raw.textCut = m.size > int64(len(m.data))
		}
		rec, err := legacyParse(cfg, raw, sent)
		if err != nil {
			rejects = append(rejects, connector.Reject{
				Stream:   StreamMessages,
				Location: fmt.Sprintf("%s, byte offset %d", path, m.offset),
				Reason:   err.Error(),
				Raw:      append([]byte(nil), m.data[:min(len(m.data), 4096)]...),
			})
			continue
		}
		rec.ID = mboxID(path, rec.MessageID, m)
		rec.File = path
		rec.Offset = &m.offset
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, connector.Record{Stream: StreamMessages, Data: data})
	}
}

// oddMbox holds what real mailboxes throw at a parser: encoded words in
// several charsets, raw Latin-1 and invalid UTF-8, folded and repeated
// fields, names in odd case, CRLF and bare CR, dates in every layout
// ParseDate knows (and some it does not), missing fields, sloppy
// address lists, ">From " quoting, and malformed headers to reject.
var oddMbox = strings.Join([]string{
	"From a@x.org Mon Jan  2 15:04:05 2023\n" +
		"From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.org>\n" +
		"TO: Support <support@acme.example>,\n\t=?UTF-8?B?w4TDlg==?= <oe@example.org>\n" +
		"subject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus\n  =?UTF-8?B?S8O2bG4=?=\n" +
		"Date: Mon, 2 Jan 2023 16:04:05 +0100\nMessage-Id: <m1@example.org>\nMessage-ID: <second@example.org>\n\n" +
		"body\n>From quoted\n>>From twice\n",
	"From b@x.org Tue Jan  3 09:00:00 2023\nFrom: Bj\xf6rn Ek <bjorn@example.net>\nSubject: Pr\xe4sentation \xff\xfe\n" +
		"References: <root@acme.example>\n <o1@acme.example>\nIn-Reply-To: <o1@acme.example> (comment)\n\nno date\n",
	"From c@x.org Wed Feb  1 10:00:00 2023\r\nFrom: \"Carol, C.\" <carol@example.com>\r\nTo: info@acme.example, Dave <dave@example.com>\r\n" +
		"Cc: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>\r\nSubject: CRLF\r\nDate: Wed, 1 Feb 2023 10:00:00 +0000\r\n\r\nline\r\n",
	"From d@x.org Wed Feb  1 10:00:00 2023\nFrom: d@x.org\nDate: 6 Mar 2023 10:00 GMT\nSubject:\nSubject: second subject\nBcc: a@x.org,, \"B\" <b@x.org>, broken <c@x.org\n\n",
	"From e@x.org Wed Feb  1 10:00:00 2023\nDate: mon, 06 Mar 2023 10:00:00 -0000\nSubject: lower-case weekday\nTo: =?x-unknown?Q?abc?= <u@x.org>\n\n",
	"From f@x.org Wed Feb  1 10:00:00 2023\nDate: Mon, 06 Mar 2023 10:00:00.123 +0530\nFrom: \"Quoted \\\"Name\\\"\" <q@x.org>\n\n",
	"From g@x.org Wed Feb  1 10:00:00 2023\nDate: Tue, 31 Feb 2023 10:00:00 +0100\nSubject: no such day\n\n",
	"From h@x.org Wed Feb  1 10:00:00 2023\nDate: Mon, 6 Mar 2023 10:00:00 +0100 (CET)\nSubject: zone comment\n\n",
	"From i@x.org Wed Feb  1 10:00:00 2023\nDate: Mon, 6 Mar 2023 10:00:00 MST\nSubject: named zone\n\n",
	"From j@x.org Wed Feb  1 10:00:00 2023\nDate: Mon, 6 Mar 23 10:00 -0100\nSubject: short year\n\n",
	"From k@x.org Wed Feb  1 10:00:00 2023\nDate:   Mon,  6 Mar 2023 25:00:00 +2400\nSubject: out of range\n\n",
	"From l@x.org Wed Feb  1 10:00:00 2023\nDate: Mon, 6 Mar 2023 10:00:00 +0100\r\r\nSubject: bare CR\r\r\n\n",
	"From m@x.org Wed Feb  1 10:00:00 2023\n no colon: continuation first\nSubject: rejected\n\n",
	"From n@x.org Wed Feb  1 10:00:00 2023\nSubject: ok\nno colon here\n\n",
	"From o@x.org Wed Feb  1 10:00:00 2023\nBad Key: x\n\n",
	"From p@x.org Wed Feb  1 10:00:00 2023\n: empty name\nSubject: empty name skipped\nX-\xe4: raw byte in a name\n\n",
	"From q@x.org Wed Feb  1 10:00:00 2023\nSubject: a\n \n\t\n  b  \n\n",
	"From r@x.org Wed Feb  1 10:00:00 2023\nSubject: " + strings.Repeat("long ", 2000) + "\nFrom: x@y.org\n\n",
	"From s@x.org Wed Feb  1 10:00:00 2023\nFrom:\n  folded@x.org\nTo: undisclosed-recipients:;\nCc: group: a@x.org, b@x.org;\n\n",
	"From t@x.org Wed Feb  1 10:00:00 2023\nFrom: sales@acme.example\nTo: sales@acme.example, =?UTF-8?Q?K=C3=A4ufer?= <k@example.org>\nMessage-ID: no-brackets@x.org\n\n",
	"From u@x.org Wed Feb  1 10:00:00 2023\nSubject: <script>&\"\\\u2028\x01\x7f</script>\nFrom: \"<b>\" <amp&@x.org>\n\n",
	"From v@x.org Wed Feb  1 10:00:00 2023\nSubject: no header end\n",
}, "\n")

// TestFastPathsEquivalent reads the fixtures, a generated mbox (the
// shape of the end-to-end benchmark) and oddMbox with and without bodies
// and checks that Read emits exactly what the old parser emitted, record
// for record and reject for reject.
func TestFastPathsEquivalent(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/*.mbox")
	if err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(t.TempDir(), "odd.mbox")
	if err := os.WriteFile(odd, []byte(oddMbox), 0o644); err != nil {
		t.Fatal(err)
	}
	// Lines longer than the reader's 64 KiB buffer (in the header, the
	// body and a quoted From line) and a run of blank lines before a
	// separator.
	long := filepath.Join(t.TempDir(), "long.mbox")
	longMbox := "From a Mon Jan  2 15:04:05 2023\nSubject: " + strings.Repeat("s", 70000) + "\nMessage-ID: <l1@x>\n\n" +
		strings.Repeat("b", 200000) + "\n\n" + strings.Repeat("\n", 65533) + "From b Mon Jan  2 15:04:05 2023\r\nSubject: second\r\n\r\n>From " + strings.Repeat("q", 140000)
	if err := os.WriteFile(long, []byte(longMbox), 0o644); err != nil {
		t.Fatal(err)
	}
	// It ends in the middle of a line: written an hour ago, it is complete
	// (a file being written to just now would wait for its last message).
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(long, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	files := append(fixtures, odd, long, generatedMbox(t, 300))
	for _, path := range files {
		for _, bodies := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s bodies=%v", filepath.Base(path), bodies), func(t *testing.T) {
				config := map[string]any{"mbox": []string{path}, "own_addresses": []string{"@acme.example", "@lindenblatt-kaffee.de"}, "bodies": bodies}
				cfg, err := parseConfig(json.RawMessage(mustJSON(t, config)))
				if err != nil {
					t.Fatal(err)
				}
				wantRecs, wantRejects := legacyReadMbox(t, cfg, path)
				col := &sdktest.Collector{}
				if err := New().Read(t.Context(), connector.ReadRequest{Config: json.RawMessage(mustJSON(t, config))}, col); err != nil {
					t.Fatal(err)
				}
				if len(wantRecs) == 0 {
					t.Fatal("the old parser read no record: the test tests nothing")
				}
				if len(col.Records) != len(wantRecs) {
					t.Fatalf("%d records, the old parser emitted %d", len(col.Records), len(wantRecs))
				}
				for i, want := range wantRecs {
					if got := col.Records[i]; got.Stream != want.Stream || !bytes.Equal(got.Data, want.Data) {
						t.Errorf("record %d:\n got %s\nwant %s", i, got.Data, want.Data)
					}
				}
				t.Logf("%d records, %d rejects", len(wantRecs), len(wantRejects))
				if len(col.Rejects) != len(wantRejects) {
					t.Fatalf("%d rejects, the old parser made %d: %+v", len(col.Rejects), len(wantRejects), col.Rejects)
				}
				for i, want := range wantRejects {
					got := col.Rejects[i]
					if got.Stream != want.Stream || got.Location != want.Location || got.Reason != want.Reason || !bytes.Equal(got.Raw, want.Raw) {
						t.Errorf("reject %d:\n got %+v\nwant %+v", i, got, want)
					}
				}
			})
		}
	}
}

// FuzzFastPathsEquivalent checks parse and the record encoding against
// the old parser on arbitrary header sections and bodies.
func FuzzFastPathsEquivalent(f *testing.F) {
	for _, m := range strings.Split(oddMbox, "\nFrom ") {
		_, msg, _ := strings.Cut(m, "\n")
		f.Add([]byte(msg), false)
	}
	f.Add([]byte("Subject: x\r"), true)
	f.Add([]byte("Date: Mon, 2 Jan 2006 15:04:05 -0700 trailing\n\n"), true)
	f.Add([]byte("Date: Mon, 2 Jan -006 15:04:05 -0700\nFrom: a@b.c\n\n"), false)
	fallback := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in []byte, sent bool) {
		cfg := &Config{Bodies: sent, BodyMaxBytes: 32, OwnAddresses: []string{"@b.c", "a@x.org"}}
		header, body := splitHeader(in)
		raw := rawMessage{header: header, text: body, size: int64(len(in)), fallback: fallback, mailbox: "INBOX"}
		want, wantErr := legacyParse(cfg, raw, sent)
		p := newParser(cfg)
		for range 2 { // the second time from the address cache
			got, err := p.parse(raw, sent)
			if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("error %v, the old parser's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			wantJSON, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if gotJSON := appendRecord(nil, got); !bytes.Equal(gotJSON, wantJSON) {
				t.Fatalf("record\n got %s\nwant %s", gotJSON, wantJSON)
			}
		}
	})
}

// FuzzMboxReaderEquivalent checks the reader against the one before it
// reused its buffers: the same messages, offsets, data and errors.
func FuzzMboxReaderEquivalent(f *testing.F) {
	f.Add([]byte(oddMbox), uint16(300))
	f.Add([]byte("From \n\nFrom \r\n\r\r\nFrom x\n>From \n\n"), uint16(3))
	f.Fuzz(func(t *testing.T, in []byte, keep uint16) {
		old := newLegacyMboxReader(bytes.NewReader(in), 7, int(keep))
		r := newMboxReader(bytes.NewReader(in), 7, int(keep))
		for {
			want, wantErr := old.Next()
			got, err := r.Next()
			if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("error %v, the old reader's %v", err, wantErr)
			}
			if err != nil {
				return
			}
			if got.offset != want.offset || got.end != want.end || got.fromLine != want.fromLine || got.size != want.size || !bytes.Equal(got.data, want.data) {
				t.Fatalf("message\n got %+v\nwant %+v", got, want)
			}
		}
	})
}
