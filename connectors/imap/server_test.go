package imap

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/desilo/desilo/plugins/connector"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

const (
	testUser     = "agent@acme.example"
	testPassword = "s3cret-Pa55word"
)

// testServer is a go-imap server with an in-memory backend on 127.0.0.1.
type testServer struct {
	port   int
	user   *imapmemserver.User
	caFile string
}

// startServer runs a server speaking tlsMode (implicit, starttls, none)
// and advertising caps.
func startServer(t *testing.T, tlsMode string, caps imap.CapSet) *testServer {
	t.Helper()
	return startServerWith(t, tlsMode, caps, nil)
}

// startServerWith is startServer with each session passed through wrap
// (nil: none), for servers that behave unlike the in-memory one.
func startServerWith(t *testing.T, tlsMode string, caps imap.CapSet, wrap func(imapserver.Session) imapserver.Session) *testServer {
	t.Helper()
	cert, caFile := selfSigned(t)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}

	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	mem.AddUser(user)
	for _, name := range []string{"INBOX", "Sent"} {
		if err := user.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if wrap != nil {
				return wrap(mem.NewSession()), nil, nil
			}
			return mem.NewSession(), nil, nil
		},
		Caps:   caps,
		Logger: log.New(io.Discard, "", 0),
	}
	switch tlsMode {
	case tlsStartTLS:
		opts.TLSConfig = tlsCfg
	case tlsNone:
		opts.InsecureAuth = true
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if tlsMode == tlsImplicit {
		ln = tls.NewListener(ln, tlsCfg)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &testServer{port: port, user: user, caFile: caFile}
}

// selfSigned makes a certificate for 127.0.0.1 and writes it as a CA file.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "desilo test imap"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

// config returns a connector config for the server; extra overrides.
func (s *testServer) config(t *testing.T, tlsMode string, extra map[string]any) string {
	t.Helper()
	c := map[string]any{
		"host": "127.0.0.1", "port": s.port, "tls": tlsMode, "ca_file": s.caFile,
		"username": testUser, "password": testPassword,
		"mailboxes":     []string{"INBOX", "Sent"},
		"own_addresses": []string{"@acme.example"},
	}
	if tlsMode == tlsNone {
		c["insecure"] = true
	}
	for k, v := range extra {
		c[k] = v
	}
	return mustJSON(t, c)
}

func (s *testServer) appendMsg(t *testing.T, mailbox, raw string, flags ...imap.Flag) {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	if _, err := s.user.Append(mailbox, bytes.NewReader([]byte(raw)), &imap.AppendOptions{Flags: flags}); err != nil {
		t.Fatal(err)
	}
}

func testMail(from, to, subject, id string) string {
	return fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: Mon, 6 Mar 2023 10:00:00 +0100\nMessage-ID: <%s>\n\nHello\n", from, to, subject, id)
}

func TestReadServer(t *testing.T) {
	for _, tc := range []struct {
		tls  string
		caps imap.CapSet
	}{
		{tlsImplicit, imap.CapSet{imap.CapIMAP4rev2: {}, imap.CapIMAP4rev1: {}}},
		{tlsStartTLS, imap.CapSet{imap.CapIMAP4rev1: {}}},
		{tlsNone, imap.CapSet{imap.CapIMAP4rev1: {}}},
	} {
		t.Run(tc.tls, func(t *testing.T) {
			s := startServer(t, tc.tls, tc.caps)
			s.appendMsg(t, "INBOX", testMail(
				"=?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.org>",
				"Support <support@acme.example>",
				"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "in1@example.org"), imap.FlagSeen)
			s.appendMsg(t, "INBOX", testMail("sales@acme.example", "bob@example.net", "sent from INBOX", "in2@acme.example"))
			s.appendMsg(t, "Sent", testMail("Acme <support@acme.example>",
				"support@acme.example, =?utf-8?q?Zo=C3=AB?= <zoe@example.com>", "Re: hi", "out1@acme.example"))

			recs, col := readAll(t, t.Context(), s.config(t, tc.tls, nil), nil)
			if len(col.Rejects) > 0 {
				t.Fatalf("rejects: %+v", col.Rejects)
			}
			got := byID(recs)
			in1, ok := got["INBOX;UIDVALIDITY=1;UID=1"]
			if !ok {
				t.Fatalf("no INBOX UID 1 in %v", recs)
			}
			if want := []Address{{Name: "Jürgen Müller", Address: "juergen@example.org"}}; !slices.Equal(in1.From, want) {
				t.Errorf("from = %+v", in1.From)
			}
			if in1.Subject != "Grüße aus Köln" || in1.Direction != "in" || in1.Counterpart != "juergen@example.org" ||
				in1.MessageID != "in1@example.org" || in1.Date != "2023-03-06T10:00:00+01:00" || in1.Mailbox != "INBOX" {
				t.Errorf("in1 = %+v", in1)
			}
			if !slices.Equal(in1.Flags, []string{`\Seen`}) || in1.Size <= 0 || in1.Body != nil {
				t.Errorf("in1 flags %v size %d body %v", in1.Flags, in1.Size, in1.Body)
			}
			// From an own address: outgoing, even in INBOX.
			if in2 := got["INBOX;UIDVALIDITY=1;UID=2"]; in2.Direction != "out" || in2.Counterpart != "bob@example.net" {
				t.Errorf("in2 direction %q counterpart %q", in2.Direction, in2.Counterpart)
			}
			out1 := got["Sent;UIDVALIDITY=2;UID=1"]
			if out1.Direction != "out" || out1.Counterpart != "zoe@example.com" || out1.Mailbox != "Sent" {
				t.Errorf("out1 direction %q counterpart %q mailbox %q", out1.Direction, out1.Counterpart, out1.Mailbox)
			}
			if len(recs) != 3 {
				t.Errorf("%d records, want 3", len(recs))
			}
		})
	}
}

func TestReadServerBodies(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	s.appendMsg(t, "INBOX", "From: a@example.org\nSubject: multi\nMessage-ID: <b1@example.org>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=XX\n\n"+
		"--XX\nContent-Type: text/html\n\n<p>html</p>\n"+
		"--XX\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe und mehr\n"+
		"--XX--\n")
	recs, _ := readAll(t, t.Context(), s.config(t, tlsImplicit, map[string]any{"bodies": true, "body_max_bytes": 5, "mailboxes": []string{"INBOX"}}), nil)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	// "Grüß" is 6 bytes: a cut at 5 must not split the ß.
	if b := deref(recs[0].Body); b != "Grü" || !recs[0].BodyTruncated {
		t.Errorf("body %q truncated %v, want \"Grü\" true", b, recs[0].BodyTruncated)
	}
}

func TestReadServerIncremental(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	for i := range 5 {
		s.appendMsg(t, "INBOX", testMail("c@example.org", "support@acme.example", "s", fmt.Sprintf("m%d@example.org", i)))
	}
	cfg := s.config(t, tlsImplicit, map[string]any{"batch_size": 2})
	first, col := readAll(t, t.Context(), cfg, nil)
	if len(first) != 5 {
		t.Fatalf("first read: %d records", len(first))
	}
	// One checkpoint names the first batch (UIDs up to 2) before it is
	// read; batches of 2, 2, 1 each end with one that names the next
	// batch's last UID; then one at the end.
	var got [][2]uint32
	for _, cp := range col.Checkpoints {
		var st state
		if err := json.Unmarshal(cp, &st); err != nil {
			t.Fatal(err)
		}
		m := st.Mailboxes["INBOX"]
		got = append(got, [2]uint32{m.LastUID, m.Ahead})
	}
	if want := [][2]uint32{{0, 2}, {2, 4}, {4, 5}, {5, 0}, {5, 0}}; !slices.Equal(got, want) {
		t.Errorf("checkpointed (last UID, ahead) %v, want %v", got, want)
	}

	none, col2 := readAll(t, t.Context(), cfg, col.State())
	if len(none) != 0 {
		t.Fatalf("nothing new: %d records", len(none))
	}
	s.appendMsg(t, "INBOX", testMail("d@example.org", "support@acme.example", "new", "new1@example.org"))
	s.appendMsg(t, "Sent", testMail("support@acme.example", "d@example.org", "new", "new2@acme.example"))
	recs, _ := readAll(t, t.Context(), cfg, col2.State())
	ids := slices.Sorted(func(yield func(string) bool) {
		for _, r := range recs {
			yield(r.ID)
		}
	})
	if want := []string{"INBOX;UIDVALIDITY=1;UID=6", "Sent;UIDVALIDITY=2;UID=1"}; !slices.Equal(ids, want) {
		t.Errorf("incremental read: %v, want %v", ids, want)
	}
}

func TestReadServerUIDValidityChange(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	s.appendMsg(t, "INBOX", testMail("c@example.org", "x@acme.example", "old", "old@example.org"))
	cfg := s.config(t, tlsImplicit, map[string]any{"mailboxes": []string{"INBOX"}})
	_, col := readAll(t, t.Context(), cfg, nil)

	// Recreating the mailbox gives it a new UIDVALIDITY; its first
	// message has UID 1 again, below the saved last UID... of 1.
	if err := s.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := s.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	s.appendMsg(t, "INBOX", testMail("c@example.org", "x@acme.example", "a", "a@example.org"))
	s.appendMsg(t, "INBOX", testMail("c@example.org", "x@acme.example", "b", "b@example.org"))

	ctx, logs := logBuffer(t.Context())
	recs, col2 := readAll(t, ctx, cfg, col.State())
	// First the record read under the old UIDVALIDITY is deleted, then
	// the mailbox is read again under new ids.
	if len(recs) != 3 || !col2.Records[0].Deleted || recs[0].ID != "INBOX;UIDVALIDITY=1;UID=1" ||
		recs[1].ID != "INBOX;UIDVALIDITY=3;UID=1" || recs[2].ID != "INBOX;UIDVALIDITY=3;UID=2" {
		t.Fatalf("after UIDVALIDITY change: %+v", recs)
	}
	for _, r := range col2.Records[1:] {
		if r.Deleted {
			t.Errorf("a new record is marked deleted: %s", r.Data)
		}
	}
	if !strings.Contains(logs.String(), "UIDVALIDITY changed") || !strings.Contains(logs.String(), `"old_uid_validity":1`) {
		t.Errorf("UIDVALIDITY change not logged: %s", logs.String())
	}

	// The next run has the new UIDVALIDITY saved: nothing to delete.
	again, _ := readAll(t, t.Context(), cfg, col2.State())
	if len(again) != 0 {
		t.Errorf("the run after: %d records, want none", len(again))
	}
}

// Every UID up to the last one read under the old UIDVALIDITY, or up to
// the batch then being read, is deleted, gaps included; beyond maxRetired none is, and the log says
// how to remove them.
func TestUIDValidityChangeDeletesOldUIDs(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	s.appendMsg(t, "INBOX", testMail("c@example.org", "x@acme.example", "a", "a@example.org"))
	cfg := s.config(t, tlsImplicit, map[string]any{"mailboxes": []string{"INBOX"}})
	state := func(last uint32) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"mailboxes":{"INBOX":{"uid_validity":99,"last_uid":%d}}}`, last))
	}
	_, col := readAll(t, t.Context(), cfg, state(4))
	var deleted []string
	for _, r := range col.Records {
		if r.Deleted {
			deleted = append(deleted, string(r.Data))
		}
	}
	want := []string{`{"id":"INBOX;UIDVALIDITY=99;UID=1"}`, `{"id":"INBOX;UIDVALIDITY=99;UID=2"}`,
		`{"id":"INBOX;UIDVALIDITY=99;UID=3"}`, `{"id":"INBOX;UIDVALIDITY=99;UID=4"}`}
	if !slices.Equal(deleted, want) {
		t.Errorf("deleted %v, want %v", deleted, want)
	}

	// A run that stopped in a batch (UIDs up to 7) may have staged some
	// of its rows with the state: those go too.
	_, col = readAll(t, t.Context(), cfg, json.RawMessage(`{"mailboxes":{"INBOX":{"uid_validity":99,"last_uid":4,"ahead":7}}}`))
	deleted = deleted[:0]
	for _, r := range col.Records {
		if r.Deleted {
			deleted = append(deleted, string(r.Data))
		}
	}
	want = append(want, `{"id":"INBOX;UIDVALIDITY=99;UID=5"}`, `{"id":"INBOX;UIDVALIDITY=99;UID=6"}`, `{"id":"INBOX;UIDVALIDITY=99;UID=7"}`)
	if !slices.Equal(deleted, want) {
		t.Errorf("with ahead 7: deleted %v, want %v", deleted, want)
	}

	ctx, logs := logBuffer(t.Context())
	_, col = readAll(t, ctx, cfg, state(maxRetired+1))
	for _, r := range col.Records {
		if r.Deleted {
			t.Fatalf("beyond maxRetired: deleted %s", r.Data)
		}
	}
	if len(col.Records) != 1 || !strings.Contains(logs.String(), "full-refresh") {
		t.Errorf("beyond maxRetired: %d records, log %s", len(col.Records), logs.String())
	}
}

func TestServerErrors(t *testing.T) {
	s := startServer(t, tlsStartTLS, nil)
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"bad password", map[string]any{"password": "wrong-" + testPassword}, "rejected the username or password"},
		{"unknown user", map[string]any{"username": "nobody"}, `login as "nobody" failed`},
		{"missing mailbox", map[string]any{"mailboxes": []string{"INBOX", "Archive"}}, `select mailbox "Archive"`},
		{"pattern matching nothing", map[string]any{"mailboxes": []string{"Nope*"}}, `pattern "Nope*" matches no selectable mailbox`},
		{"untrusted certificate", map[string]any{"ca_file": nil}, "certificate"},
		{"implicit TLS against a plain port", map[string]any{"tls": tlsImplicit}, "set tls: starttls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := map[string]any{}
			for k, v := range tc.extra {
				if v != nil {
					extra[k] = v
				}
			}
			c := map[string]any{}
			if err := json.Unmarshal([]byte(s.config(t, tlsStartTLS, extra)), &c); err != nil {
				t.Fatal(err)
			}
			if _, drop := tc.extra["ca_file"]; drop {
				delete(c, "ca_file")
			}
			cfg := json.RawMessage(mustJSON(t, c))
			ctx, logs := logBuffer(t.Context())
			for what, err := range map[string]error{
				"Check": New().Check(ctx, cfg),
				"Read":  New().Read(ctx, connector.ReadRequest{Config: cfg}, &sdktest.Collector{}),
			} {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %v, want it to contain %q", what, err, tc.want)
				} else if strings.Contains(err.Error(), testPassword) {
					t.Errorf("%s: error contains the password: %v", what, err)
				}
			}
			if strings.Contains(logs.String(), testPassword) {
				t.Errorf("logs contain the password: %s", logs.String())
			}
		})
	}
}

func TestCheckServer(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	if err := New().Check(t.Context(), json.RawMessage(s.config(t, tlsImplicit, map[string]any{"mailboxes": []string{"*"}}))); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestPasswordNeverLogged(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	s.appendMsg(t, "INBOX", testMail("c@example.org", "x@acme.example", "s", "m@example.org"))
	ctx, logs := logBuffer(t.Context())
	cfg := s.config(t, tlsImplicit, nil)
	recs, col := readAll(t, ctx, cfg, nil)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	if err := New().Check(ctx, json.RawMessage(cfg)); err != nil {
		t.Fatal(err)
	}
	if logs.Len() == 0 {
		t.Fatal("no logs captured: the test would prove nothing")
	}
	for _, b := range append([]json.RawMessage{logs.Bytes()}, col.Checkpoints...) {
		if bytes.Contains(b, []byte(testPassword)) {
			t.Errorf("password found in %s", b)
		}
	}
}

func TestSentSpecialUse(t *testing.T) {
	cfg := &Config{}
	for _, tc := range []struct {
		mailbox string
		server  map[string]bool
		config  []string
		want    bool
	}{
		{"Sent", nil, nil, true},
		{"INBOX.Sent", nil, nil, true},
		{"Sent Items", map[string]bool{"Sent Items": true}, nil, true},
		{"Sent", map[string]bool{"Sent Items": true}, nil, false},
		{"Outbox", nil, []string{"outbox"}, true},
		{"Sent", nil, []string{"Outbox"}, false},
		{"INBOX", nil, nil, false},
	} {
		cfg.SentMailboxes = tc.config
		if got := cfg.isSent(tc.mailbox, tc.server); got != tc.want {
			t.Errorf("isSent(%q, %v, config %v) = %v, want %v", tc.mailbox, tc.server, tc.config, got, tc.want)
		}
	}
}

func TestConformance(t *testing.T) {
	s := startServer(t, tlsImplicit, nil)
	s.appendMsg(t, "INBOX", testMail("c@example.org", "x@acme.example", "s", "m1@example.org"))
	s.appendMsg(t, "Sent", testMail("x@acme.example", "c@example.org", "s", "m2@acme.example"))
	sdktest.Run(t, New(), sdktest.Options{
		Config: json.RawMessage(s.config(t, tlsImplicit, map[string]any{"mbox": []string{"testdata/*.mbox"}})),
		BadConfigs: []json.RawMessage{
			json.RawMessage(`{}`),
			json.RawMessage(`{"host": "127.0.0.1", "username": "u"}`),
			json.RawMessage(`{"host": "127.0.0.1", "username": "u", "password": "p", "tls": "none"}`),
			json.RawMessage(`{"mbox": ["testdata/*.mbox"], "unknown": 1}`),
			json.RawMessage(s.config(t, tlsImplicit, map[string]any{"password": "wrong"})),
			json.RawMessage(`{"mbox": ["testdata/missing.mbox"]}`),
		},
	})
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Bytes() []byte { return []byte(b.String()) }

func (b *syncBuffer) Len() int { return len(b.String()) }

// flagUpdateSession sends, before the first UID FETCH's own responses,
// an unsolicited FETCH with the flags and UID of the first message asked
// for: what a server sends when another client marks it read just then.
type flagUpdateSession struct {
	imapserver.Session
	sent bool
}

func (s *flagUpdateSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, o *imap.FetchOptions) error {
	if set, ok := numSet.(imap.UIDSet); ok && !s.sent {
		s.sent = true
		if nums, ok := set.Nums(); ok && len(nums) > 0 {
			rw := w.CreateMessage(1)
			rw.WriteFlags([]imap.Flag{imap.FlagSeen})
			rw.WriteUID(nums[0])
			if err := rw.Close(); err != nil {
				return err
			}
		}
	}
	return s.Session.Fetch(w, numSet, o)
}

// TestUnsolicitedFlagUpdateDuringFetch checks that a flag update arriving
// in the middle of a UID FETCH is not taken for a message: every message
// is emitted with its header, none empty.
func TestUnsolicitedFlagUpdateDuringFetch(t *testing.T) {
	s := startServerWith(t, tlsNone, nil, func(in imapserver.Session) imapserver.Session { return &flagUpdateSession{Session: in} })
	for i := 1; i <= 3; i++ {
		s.appendMsg(t, "INBOX", testMail("customer@example.org", "sales@acme.example", fmt.Sprintf("quote %d", i), fmt.Sprintf("q%d@example.org", i)))
	}
	recs, col := readAll(t, t.Context(), s.config(t, tlsNone, map[string]any{"mailboxes": []string{"INBOX"}}), nil)
	if len(recs) != 3 || len(col.Rejects) != 0 {
		t.Fatalf("%d records, %d rejects; want 3 and none", len(recs), len(col.Rejects))
	}
	for _, r := range recs {
		if len(r.From) == 0 || r.Subject == "" {
			t.Errorf("record %s emitted without its header: from %v, subject %q", r.ID, r.From, r.Subject)
		}
	}
}

// hidingSession leaves the UIDs in hide out of UID SEARCH results: a
// delivery whose UID is taken but not yet visible, as on a replicated
// server that shows a higher UID first.
type hidingSession struct {
	imapserver.Session
	mu   *sync.Mutex
	hide map[imap.UID]bool
}

func (s *hidingSession) Search(kind imapserver.NumKind, c *imap.SearchCriteria, o *imap.SearchOptions) (*imap.SearchData, error) {
	d, err := s.Session.Search(kind, c, o)
	if err != nil || kind != imapserver.NumKindUID {
		return d, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var set imap.UIDSet
	all, _ := d.All.(imap.UIDSet)
	nums, _ := all.Nums()
	for _, u := range nums {
		if !s.hide[u] {
			set.AddNum(u)
		}
	}
	d.All = set
	return d, nil
}

// TestUIDSeenLate checks a message whose UID becomes visible after a
// higher one was read: the next run finds it, and the run after that
// does not read it again.
func TestUIDSeenLate(t *testing.T) {
	var mu sync.Mutex
	hide := map[imap.UID]bool{2: true}
	s := startServerWith(t, tlsNone, nil, func(in imapserver.Session) imapserver.Session {
		return &hidingSession{Session: in, mu: &mu, hide: hide}
	})
	for i := 1; i <= 3; i++ {
		s.appendMsg(t, "INBOX", testMail("c@example.org", "sales@acme.example", "s", fmt.Sprintf("m%d@example.org", i)))
	}
	cfg := s.config(t, tlsNone, map[string]any{"mailboxes": []string{"INBOX"}})
	first, col := readAll(t, t.Context(), cfg, nil)
	if len(first) != 2 {
		t.Fatalf("first read: %d records, want 2 (UID 2 hidden)", len(first))
	}
	mu.Lock()
	delete(hide, 2) // its delivery completes after the run
	mu.Unlock()
	second, col2 := readAll(t, t.Context(), cfg, col.State())
	if len(second) != 1 || second[0].ID != "INBOX;UIDVALIDITY=1;UID=2" {
		t.Fatalf("second read: %+v, want UID 2 only", second)
	}
	if third, _ := readAll(t, t.Context(), cfg, col2.State()); len(third) != 0 {
		t.Errorf("third read: %d records, want none", len(third))
	}
}

// refusingSession answers NO to a FETCH that asks for a UID in bad, as a
// server does for a message it cannot read from its store.
type refusingSession struct {
	imapserver.Session
	bad imap.UID
}

func (s *refusingSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, o *imap.FetchOptions) error {
	if set, ok := numSet.(imap.UIDSet); ok && set.Contains(s.bad) {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "message store damaged"}
	}
	return s.Session.Fetch(w, numSet, o)
}

// TestMessageTheServerRefuses checks a message the server will not send:
// it is rejected, and the mailbox's other messages are read.
func TestMessageTheServerRefuses(t *testing.T) {
	s := startServerWith(t, tlsNone, nil, func(in imapserver.Session) imapserver.Session { return &refusingSession{Session: in, bad: 2} })
	for i := 1; i <= 3; i++ {
		s.appendMsg(t, "INBOX", testMail("c@example.org", "sales@acme.example", "s", fmt.Sprintf("m%d@example.org", i)))
	}
	recs, col := readAll(t, t.Context(), s.config(t, tlsNone, map[string]any{"mailboxes": []string{"INBOX"}}), nil)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if want := []string{"INBOX;UIDVALIDITY=1;UID=1", "INBOX;UIDVALIDITY=1;UID=3"}; !slices.Equal(ids, want) {
		t.Errorf("records %q, want %q", ids, want)
	}
	if len(col.Rejects) != 1 || !strings.Contains(col.Rejects[0].Location, "UID 2") || !strings.Contains(col.Rejects[0].Reason, "message store damaged") {
		t.Errorf("rejects %+v, want UID 2 refused", col.Rejects)
	}
}
