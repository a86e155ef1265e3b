package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/normalize"
	"github.com/desilo/desilo/core/pipeline"
	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/core/stage"
)

// copyExample copies the four-silo sample into a fresh directory, so its
// state and output land there.
func copyExample(t *testing.T) string { return copyDir(t, "../../examples/files") }

// readSummary reads a --summary-json file, and returns its bytes too.
func readSummary(t *testing.T, path string) (pipeline.Summary, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return sum, b
}

// editFile rewrites the file at path with edit.
func editFile(t *testing.T, path string, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(edit(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyFile copies the file at from to to.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a directory tree into a fresh temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == "out" || d.Name() == ".desilo" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// snapshotTables reads every table of the current snapshot.
func snapshotTables(t *testing.T, out string) (string, map[string][][]any) {
	t.Helper()
	dir, m, err := parquet.Current(out)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string][][]any{}
	for _, name := range model.Outputs {
		err := parquet.ReadTable(dir, m, model.MustLoad(name), func(row []any) error {
			tables[name] = append(tables[name], slices.Clone(row))
			return nil
		})
		if err != nil {
			t.Fatalf("table %s: %v", name, err)
		}
		if int64(len(tables[name])) != m.Tables[name].Rows {
			t.Fatalf("table %s: read %d rows, manifest says %d", name, len(tables[name]), m.Tables[name].Rows)
		}
	}
	return dir, tables
}

func value(row []any, table, col string) any {
	i, ok := model.MustLoad(table).Index(col)
	if !ok {
		panic(col)
	}
	return row[i]
}

func TestSyncFourSilos(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	summary := filepath.Join(dir, "summary.json")
	code, _, errOut := desilo(t, "sync", "-c", cfg, "--summary-json", summary)
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	if fi, err := os.Stat(summary); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("summary mode %v (%v), want -rw-r--r-- for the scheduler's tools", fi.Mode().Perm(), err)
	}
	var sum struct {
		OK      bool
		Sources []struct {
			Name    string
			Records int
			Rejects int
		}
		Build struct {
			Customers int
			Links     int
			Merges    int
		}
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	// 20 CRM contacts of whom two are one Jürgen (same phone); a new
	// customer who only wrote to the helpdesk and the mailbox; and two
	// role addresses (info@, noreply@) that link nothing.
	if !sum.OK || len(sum.Sources) != 4 || sum.Build.Customers != 22 || sum.Build.Links != 72 {
		t.Fatalf("summary: %s", b)
	}
	out := filepath.Join(dir, "out")
	_, first := snapshotTables(t, out)
	if len(first["customer"]) != 22 || len(first["identity_link"]) != 72 || len(first["order"]) != 30 ||
		len(first["ticket"]) != 10 || len(first["message"]) != 12 || len(first["event"]) != 52 {
		t.Fatalf("row counts: customers %d, links %d, orders %d, tickets %d, messages %d, events %d",
			len(first["customer"]), len(first["identity_link"]), len(first["order"]), len(first["ticket"]), len(first["message"]), len(first["event"]))
	}
	// Jürgen was joined across all four silos.
	var juergen []any
	for _, c := range first["customer"] {
		if slices.Contains(value(c, "customer", "emails").([]string), "juergen.mueller@example.de") {
			juergen = c
		}
	}
	if juergen == nil {
		t.Fatal("no customer with juergen.mueller@example.de")
	}
	if got := value(juergen, "customer", "sources").([]string); !reflect.DeepEqual(got, []string{"helpdesk", "legacy_crm", "mail", "shop"}) {
		t.Fatalf("Jürgen's sources = %v", got)
	}
	if got := value(juergen, "customer", "record_count"); got != int64(11) {
		t.Fatalf("Jürgen's record_count = %v", got)
	}
	for _, o := range first["order"] {
		if value(o, "order", "customer_id") == nil {
			t.Fatalf("order %v has no customer", value(o, "order", "record_key"))
		}
	}

	// explain shows the customer and the chain of keys.
	code, expl, errOut := desilo(t, "explain", "-c", cfg, "JUERGEN.Mueller@example.de")
	if code != 0 || !strings.Contains(expl, "11 records, and why they are one customer") ||
		!strings.Contains(expl, "legacy_crm/contacts/1016 (customer)  shares phone = +49301234567") {
		t.Fatalf("explain: exit %d\n%s%s", code, expl, errOut)
	}

	// The same customer by phone (any format) and by customer id; an
	// unknown one is an error.
	id := value(juergen, "customer", "customer_id").(string)
	for _, q := range []string{"030 1234567", "+49 (30) 123 45 67", id} {
		code, out, errOut := desilo(t, "explain", "-c", cfg, q)
		if code != 0 || !strings.Contains(out, "customer "+id) {
			t.Fatalf("explain %q: exit %d\n%s%s", q, code, out, errOut)
		}
	}
	if code, _, errOut := desilo(t, "explain", "-c", cfg, "nobody@kundenpost.de"); code != exitFailure || !strings.Contains(errOut, "no customer matches") {
		t.Fatalf("explain of an unknown email: exit %d\n%s", code, errOut)
	}

	// Idempotence: a second sync with no source change publishes the same rows.
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("second sync: exit %d\n%s", code, errOut)
	}
	_, second := snapshotTables(t, out)
	for _, name := range model.Outputs {
		if !reflect.DeepEqual(first[name], second[name]) {
			t.Errorf("table %s changed between two syncs with no source change", name)
		}
	}

	// A ticket that bridges two customers (Konrad's email, Gerd's phone)
	// merges them: exactly one merge row, and the older id survives.
	konrad, gerd := customerOf(t, first, "konrad.neumann@example.de"), customerOf(t, first, "gerd.nuesslein@example.de")
	tickets := filepath.Join(dir, "tickets.json")
	raw, err := os.ReadFile(tickets)
	if err != nil {
		t.Fatal(err)
	}
	bridge := `,
  {"id": 9011, "requester": {"name": "K. Neumann", "email": "konrad.neumann@example.de", "phone": "0911 898989"}, "subject": "Telefonnummer", "status": "open", "via": "phone", "created_at": "2024-06-01T10:00:00Z", "updated_at": "2024-06-01T10:00:00Z"}
]`
	raw = []byte(strings.TrimRight(strings.TrimSpace(string(raw)), "]") + bridge)
	if err := os.WriteFile(tickets, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("third sync: exit %d\n%s", code, errOut)
	}
	_, third := snapshotTables(t, out)
	if len(third["merge"]) != 1 {
		t.Fatalf("merge rows = %v, want exactly one", third["merge"])
	}
	m := third["merge"][0]
	if value(m, "merge", "absorbed_id") != konrad || value(m, "merge", "surviving_id") != gerd {
		t.Fatalf("merge %v, want %s absorbed into the older %s", m, konrad, gerd)
	}
	if r := value(m, "merge", "reason").(string); !strings.Contains(r, "share a match key") {
		t.Errorf("merge reason %q, want the one for two customers joined", r)
	}
	if len(third["customer"]) != 21 {
		t.Fatalf("customers after the merge = %d, want 21", len(third["customer"]))
	}
	// The absorbed id still finds its customer, through the merge table,
	// also after a later sync that merged nothing.
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("fourth sync: exit %d\n%s", code, errOut)
	}
	code, expl, errOut = desilo(t, "explain", "-c", cfg, konrad)
	if code != 0 || !strings.Contains(expl, "customer "+gerd) || !strings.Contains(expl, konrad+" → merged into "+gerd) {
		t.Fatalf("explain of the absorbed id: exit %d\n%s%s", code, expl, errOut)
	}
}

// With an email key's provider rules on (strip_plus, strip_dots), explain
// finds a customer by any spelling that key maps to the customer's value:
// the value its links show as the join reason ("shares email =
// ada.new@example.de"), a +tag or Gmail dot variant of it, the stripped
// address of a customer with one record (no link holds its value), and the
// value of an email-normalized key on a field other than email.
func TestExplainUsesEmailKeyRules(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	editFile(t, cfg, func(y string) string {
		y = strings.Replace(y, "  default_region: DE                  # phone numbers without a country code are German\n",
			"  default_region: DE\n  keys:\n    - {name: email, email: {strip_plus: true, strip_dots: true}}\n    - {name: phone}\n"+
				"    - {name: portal_login, field: ids.portal_login, normalize: email, email: {strip_plus: true}}\n", 1)
		return y + `  - name: portal
    connector: files
    config:
      streams:
        - {name: accounts, paths: [accounts.jsonl], primary_key: [id]}
    mapping:
      accounts:
        entity: customer
        fields: {ids.portal_login: login}
`
	})
	accounts := `{"id": "1", "login": "cleo.login+a@example.de"}` + "\n" + `{"id": "2", "login": "cleo.login+b@example.de"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "accounts.jsonl"), []byte(accounts), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "orders.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{
		`"order_id": "R-1", "email": "ada.new+shop@example.de"`,
		`"order_id": "R-2", "email": "ada.new+news@example.de"`,
		`"order_id": "R-3", "email": "Bob.Gmail@gmail.com"`,
		`"order_id": "R-4", "email": "bobgmail@googlemail.com"`,
		`"order_id": "R-5", "email": "solo.buyer+shop@example.de"`,
	} {
		fmt.Fprintf(f, `{%s, "ordered_at": "2024-03-01T08:00:00Z", "status": "paid", "total": 10, "currency": "EUR", "items": 1}`+"\n", o)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	for q, want := range map[string]string{
		"ada.new@example.de":       "shares email = ada.new@example.de",
		"Ada.New+other@example.de": "shares email = ada.new@example.de",
		"bobgmail@gmail.com":       "shares email = bobgmail@gmail.com",
		"bob.gmail@googlemail.com": "shares email = bobgmail@gmail.com",
		"solo.buyer@example.de":    "shop/orders/R-5 (order)  anchor",
		"cleo.login@example.de":    "shares portal_login = cleo.login@example.de",
	} {
		code, out, errOut := desilo(t, "explain", "-c", cfg, q)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("explain %q: exit %d, want a customer with %q\n%s%s", q, code, want, out, errOut)
		}
	}
	if code, _, errOut := desilo(t, "explain", "-c", cfg, "ada.old@example.de"); code != exitFailure || !strings.Contains(errOut, "no customer matches") {
		t.Errorf("explain of an unknown email: exit %d\n%s", code, errOut)
	}
}

// explain tries every query without an @ that is no customer id as a
// phone number, in any spelling the phone normalizer maps to the stored
// E.164 number; a customer id still finds only its customer, though many
// ids also read as a phone number.
func TestExplainFindsEveryPhoneSpelling(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}
	_, tables := snapshotTables(t, filepath.Join(dir, "out"))
	juergen := customerOf(t, tables, "juergen.mueller@example.de")
	for _, q := range []string{"030\u00a01234567", "tel:+49-30-1234567", "030 1234567 ext. 5",
		"+49 30 1234567 x5", "０３０ １２３４５６７", "+49 30 1234567 "} {
		code, out, errOut := desilo(t, "explain", "-c", cfg, q)
		if code != 0 || !strings.HasPrefix(out, "customer "+juergen+"\n") {
			t.Errorf("explain %q: exit %d, want Jürgen's customer %s\n%s%s", q, code, juergen, out, errOut)
		}
	}
	if code, _, errOut := desilo(t, "explain", "-c", cfg, "not-a-number"); code != exitFailure || !strings.Contains(errOut, `no customer matches "not-a-number"`) {
		t.Errorf("explain of neither id, email nor phone: exit %d\n%s", code, errOut)
	}

	// A new contact whose phone number is what a customer's id reads as.
	var id, phone string
	for _, c := range tables["customer"] {
		if p, ok := normalize.Phone(value(c, "customer", "customer_id").(string), "DE"); ok {
			id, phone = value(c, "customer", "customer_id").(string), p
			break
		}
	}
	if id == "" {
		t.Fatal("no customer id of the sample reads as a phone number")
	}
	f, err := os.OpenFile(filepath.Join(dir, "contacts.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "9001;Ida;Ident;;%s;Berlin;01.03.2024 09:00\r\n", phone)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != 0 {
		t.Fatalf("second sync: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := desilo(t, "explain", "-c", cfg, phone); code != 0 || strings.HasPrefix(out, "customer "+id+"\n") {
		t.Fatalf("explain %s: exit %d, want the new contact\n%s%s", phone, code, out, errOut)
	}
	code, out, errOut := desilo(t, "explain", "-c", cfg, id)
	if code != 0 || !strings.HasPrefix(out, "customer "+id+"\n") || strings.Count(out, "\ncustomer ") != 0 {
		t.Errorf("explain %s: exit %d, want that customer alone\n%s%s", id, code, out, errOut)
	}
}

func customerOf(t *testing.T, tables map[string][][]any, email string) string {
	t.Helper()
	for _, c := range tables["customer"] {
		if slices.Contains(value(c, "customer", "emails").([]string), email) {
			return value(c, "customer", "customer_id").(string)
		}
	}
	t.Fatalf("no customer with %s", email)
	return ""
}

func TestSyncRefusesASecondRun(t *testing.T) {
	dir := copyExample(t)
	lock, err := stage.Lock(filepath.Join(dir, ".desilo"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	// The summary of an earlier run must not pass for this one's.
	summary := filepath.Join(dir, "summary.json")
	if err := os.WriteFile(summary, []byte(`{"run_id":"earlier","ok":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := desilo(t, "sync", "-c", filepath.Join(dir, "desilo.yaml"), "--summary-json", summary)
	if code != exitLocked || !strings.Contains(errOut, "another desilo run is in progress") {
		t.Fatalf("exit %d, want %d\n%s", code, exitLocked, errOut)
	}
	sum, b := readSummary(t, summary)
	if sum.OK || sum.RunID == "earlier" || !strings.Contains(sum.Error, "another desilo run is in progress") {
		t.Errorf("summary after a refused run: %s", b)
	}
	if !strings.Contains(string(b), `"sources": []`) {
		t.Errorf("a refused run's summary must list no sources as [], not null: %s", b)
	}
}

func TestRejectRatioFailsTheSource(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	orders := filepath.Join(dir, "orders.jsonl")
	f, err := os.OpenFile(orders, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		// A total the mapping cannot read as a number: rejected, with its raw line.
		if _, err := f.WriteString(`{"order_id": "B-` + string(rune('1'+i)) + `", "email": "anna.schroeder@example.de", "ordered_at": "2024-06-01T08:00:00Z", "status": "paid", "total": "n/a", "currency": "EUR", "items": 1}` + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	// 5 of 35 records (14%) is more than the default 5%: the source fails,
	// the others go on, and the build still runs.
	code, _, errOut := desilo(t, "sync", "-c", cfg)
	if code != exitSource || !strings.Contains(errOut, "stream orders rejected 5 of 35 records") {
		t.Fatalf("exit %d, want %d\n%s", code, exitSource, errOut)
	}
	store := filepath.Join(dir, "out")
	_, tables := snapshotTables(t, store)
	if len(tables["order"]) != 0 {
		t.Fatalf("the failed source's orders were published: %d", len(tables["order"]))
	}

	// Allowed by the flag, the rejects land in the reject table with
	// their reason and raw payload.
	code, _, errOut = desilo(t, "sync", "-c", cfg, "--max-reject-ratio", "0.5")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	_, tables = snapshotTables(t, store)
	if len(tables["order"]) != 30 || len(tables["reject"]) != 5 {
		t.Fatalf("orders %d, rejects %d; want 30 and 5", len(tables["order"]), len(tables["reject"]))
	}
	r := tables["reject"][0]
	if value(r, "reject", "source") != "shop" || value(r, "reject", "record_key") != "B-1" ||
		!strings.Contains(value(r, "reject", "reason").(string), "total") ||
		!strings.Contains(value(r, "reject", "raw").(string), `"total":"n/a"`) {
		t.Fatalf("reject row %v", r)
	}
}

// A mapping that reads a column the CSV header does not have used to map
// null into every record in silence (the CRM's contacts lost their email,
// and 22 customers became 42, exit 0). Now the source fails, saying which
// stream, field and column, and discover says it too. sync exits 3 for it,
// as check and discover do: desilo.yaml is what to fix (it used to exit 4,
// a source failed, while the others were published).
func TestMappingOfAMissingColumnFailsTheSource(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	editFile(t, cfg, func(y string) string { return strings.Replace(y, "email: E-Mail", "email: EMail", 1) })
	const want = `desilo.yaml:28: sources[0].mapping.contacts.fields.email: mapping contacts.email: path "EMail": the stream's records have no field "EMail" (did you mean "E-Mail"?)`
	code, out, errOut := desilo(t, "discover", "-c", cfg)
	if code != exitConfig || !strings.Contains(errOut, want) || !strings.Contains(out, "E-Mail") {
		t.Errorf("discover: exit %d, want %d listing the fields and saying %q\n%s%s", code, exitConfig, want, out, errOut)
	}
	code, _, errOut = desilo(t, "check", "-c", cfg)
	if code != exitConfig {
		t.Errorf("check: exit %d, want %d\n%s", code, exitConfig, errOut)
	}
	code, _, errOut = desilo(t, "sync", "-c", cfg)
	if code != exitConfig || !strings.Contains(errOut, want) {
		t.Fatalf("sync: exit %d, want %d saying %q\n%s", code, exitConfig, want, errOut)
	}
	_, tables := snapshotTables(t, filepath.Join(dir, "out"))
	for _, row := range tables["identity_link"] {
		if value(row, "identity_link", "source") == "legacy_crm" {
			t.Fatalf("the failed source's contacts were published: %v", row)
		}
	}
}

// run.log_level in desilo.yaml sets the level, the connectors' included;
// --log-level overrides it.
func TestRunLogLevelFromConfig(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	editFile(t, cfg, func(y string) string { return y + "run: {log_level: warn}\n" })
	code, _, errOut := desilo(t, "sync", "-c", cfg)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, "level=INFO") {
		t.Errorf("run.log_level warn, yet info lines were logged:\n%s", errOut)
	}
	code, _, errOut = desilo(t, "sync", "-c", cfg, "--log-level", "info")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "level=INFO") {
		t.Errorf("--log-level info over run.log_level warn: no info line logged:\n%s", errOut)
	}
}

// The scheduling examples pass --summary-json into a runs/ folder that a
// fresh volume lacks: the run must make it, not fail after publishing.
func TestSummaryJSONInAMissingDirectory(t *testing.T) {
	dir := copyExample(t)
	summary := filepath.Join(dir, "runs", "last.json")
	code, _, errOut := desilo(t, "sync", "-c", filepath.Join(dir, "desilo.yaml"), "--summary-json", summary)
	if code != 0 {
		t.Fatalf("sync --summary-json runs/last.json: exit %d, want 0\n%s", code, errOut)
	}
	if sum, b := readSummary(t, summary); !sum.OK {
		t.Errorf("summary %s, want ok", b)
	}
}

// A failed build says why, in the JSON summary and on stderr, and shows
// no build figures (they would be zeros).
func TestSummaryOfAFailedBuildSaysWhy(t *testing.T) {
	dir := copyExample(t)
	summary := filepath.Join(dir, "last.json")
	code, _, errOut := desilo(t, "build", "-c", filepath.Join(dir, "desilo.yaml"), "--summary-json", summary)
	if code != exitFailure || !strings.Contains(errOut, "FAILED: nothing is staged") || strings.Contains(errOut, "customers 0") {
		t.Fatalf("exit %d, want %d, a FAILED line and no build figures\n%s", code, exitFailure, errOut)
	}
	sum, b := readSummary(t, summary)
	if sum.OK || !strings.Contains(sum.Error, "nothing is staged") || sum.Build != nil {
		t.Errorf("summary of a failed build:\n%s", b)
	}
}

// With --log-format json every line on stderr is JSON: the summary and a
// failure too, as the scheduling examples ship stderr to a log collector.
func TestLogFormatJSONKeepsStderrJSON(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	check := func(what, errOut string, want ...string) {
		t.Helper()
		for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if !json.Valid([]byte(line)) {
				t.Errorf("%s: not a JSON line on stderr: %q", what, line)
			}
		}
		for _, w := range want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %s\n%s", what, w, errOut)
			}
		}
	}
	code, _, errOut := desilo(t, "sync", "-c", cfg, "--log-format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	check("sync", errOut, `"msg":"run summary"`, `"customers":22`)
	code, _, errOut = desilo(t, "explain", "-c", cfg, "--log-format", "json", "nobody@example.org")
	if code != exitFailure {
		t.Fatalf("explain of nobody: exit %d\n%s", code, errOut)
	}
	check("explain", errOut, `"msg":"desilo failed"`, "nobody@example.org")
}

// --max-reject-ratio takes a share from 0 to 1: a negative one is refused,
// not taken for "not given".
func TestMaxRejectRatioOutOfRange(t *testing.T) {
	dir := copyExample(t)
	for _, v := range []string{"-0.5", "2", "NaN"} {
		code, _, errOut := desilo(t, "sync", "-c", filepath.Join(dir, "desilo.yaml"), "--max-reject-ratio", v)
		if code != exitUsage || !strings.Contains(errOut, "want a share between 0 and 1") {
			t.Errorf("--max-reject-ratio %s: exit %d, want %d\n%s", v, code, exitUsage, errOut)
		}
	}
}

// Two configs with their own state dirs may share an output folder: a run
// of one must not publish while a run of the other does, or its pruning
// removes the snapshot the other is writing.
func TestSyncRefusesAnOutputInUse(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	if code, _, errOut := desilo(t, "sync", "-c", cfg); code != exitOK {
		t.Fatalf("first sync: exit %d\n%s", code, errOut)
	}
	before, _, err := parquet.Current(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	// Another config's run, with another state dir, is publishing there.
	other, err := stage.LockOutput(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, cmd := range []string{"sync", "build"} {
		code, _, errOut := desilo(t, cmd, "-c", cfg)
		if code != exitLocked || !strings.Contains(errOut, "output folder") || !strings.Contains(errOut, "output.parquet.path") {
			t.Errorf("%s: exit %d, want %d\n%s", cmd, code, exitLocked, errOut)
		}
	}
	if after, _, err := parquet.Current(filepath.Join(dir, "out")); err != nil || after != before {
		t.Errorf("current moved from %s to %s (%v) while another run held the output", before, after, err)
	}
	other.Close()
	if code, _, errOut := desilo(t, "build", "-c", cfg); code != exitOK {
		t.Fatalf("build once the output is free: exit %d\n%s", code, errOut)
	}
}

// An interrupted run's summary says so, as stderr does, not "context
// canceled".
func TestSummaryOfAnInterruptedRun(t *testing.T) {
	dir := copyExample(t)
	summary := filepath.Join(dir, "summary.json")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"sync", "-c", filepath.Join(dir, "desilo.yaml"), "--summary-json", summary}, &out, &errOut)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, errOut.String())
	}
	sum, _ := readSummary(t, summary)
	if sum.OK || sum.Error != "interrupted" {
		t.Errorf("summary of an interrupted run: ok %v, error %q; want error %q", sum.OK, sum.Error, "interrupted")
	}
}

// A source that fails because staging cannot write on this machine (here:
// a file where its stream's folder belongs; a full disk alike) is not the
// source's fault: exit 1, not 4, and the message says where to look.
func TestLocalStagingFailureIsNotASourceFailure(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	if code, _, errOut := desilo(t, "sync", "-c", cfg, "--source", "legacy_crm"); code != 0 {
		t.Fatalf("first sync: exit %d\n%s", code, errOut)
	}
	staged := filepath.Join(dir, ".desilo", "staging", "legacy_crm")
	for _, p := range []string{filepath.Join(staged, "contacts"), filepath.Join(staged, "_manifest.json")} {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(staged, "contacts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := desilo(t, "sync", "-c", cfg, "--source", "legacy_crm")
	if code != exitFailure || !strings.Contains(errOut, "on this machine, not at the sources") {
		t.Fatalf("sync with unwritable staging: exit %d, want %d saying where the failure is\n%s", code, exitFailure, errOut)
	}
}

// A second config that shares the first one's state_dir and output (a
// copied desilo.yaml keeps their relative paths) is warned: their
// same-named sources share staged records and state.
func TestSharedFoldersAreWarned(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	copied := filepath.Join(dir, "desilo-test.yaml")
	copyFile(t, cfg, copied)
	for i, c := range []string{cfg, cfg, copied} {
		code, _, errOut := desilo(t, "sync", "-c", c)
		if code != 0 {
			t.Fatalf("sync %d: exit %d\n%s", i, code, errOut)
		}
		warned := strings.Contains(errOut, "another config used this state_dir last") && strings.Contains(errOut, "another config used this output.parquet.path last")
		if warned != (i == 2) {
			t.Errorf("sync %d of %s: warned %v\n%s", i, filepath.Base(c), warned, errOut)
		}
	}
}

// An output folder that cannot be locked (read-only for publish, a file
// system without flock such as gcsfuse; here a folder where the lock file
// belongs) is warned about, and the run goes on.
func TestUnlockableOutputIsWarnedNotRefused(t *testing.T) {
	dir := copyExample(t)
	if err := os.MkdirAll(filepath.Join(dir, "out", stage.OutputLockFile), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := desilo(t, "sync", "-c", filepath.Join(dir, "desilo.yaml"))
	if code != 0 || !strings.Contains(errOut, "the output folder cannot be locked") {
		t.Fatalf("sync: exit %d, want 0 with a warning\n%s", code, errOut)
	}
}
