package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The host launches built-in connectors as `<self> connector serve NAME`;
// in tests <self> is this test binary, so it serves them here.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "connector" && os.Args[2] == "serve" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// desilo runs the CLI in-process and returns its exit code and output.
func desilo(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

const example = "../../examples/files/desilo.yaml"

func TestConnectorsList(t *testing.T) {
	code, out, errOut := desilo(t, "connectors", "list", "--plugin-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"NAME", "files", "hubspot", "imap", "sql", "zendesk", "built-in"} {
		if !strings.Contains(out, want) {
			t.Errorf("connectors list does not mention %q:\n%s", want, out)
		}
	}
}

func TestDiscoverAndCheckTheExample(t *testing.T) {
	code, out, errOut := desilo(t, "discover", "-c", example, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []discovered
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	var names []string
	for _, d := range got {
		for _, s := range d.Streams {
			names = append(names, d.Source+"/"+s.Name)
		}
	}
	if want := "legacy_crm/contacts shop/orders helpdesk/tickets mail/messages"; strings.Join(names, " ") != want {
		t.Fatalf("discovered %v, want %s", names, want)
	}
	if pk := got[0].Streams[0].PrimaryKey; len(pk) != 1 || pk[0] != "Kundennummer" {
		t.Fatalf("contacts primary key = %v", pk)
	}
	// desilo.yaml's mapping, which extract applies, is there too.
	if m, ok := got[0].Mapping["contacts"]; !ok || m.Entity != "customer" || m.Fields["email"].Path != "E-Mail" {
		t.Fatalf("legacy_crm's mapping from desilo.yaml = %+v, want contacts → customer with email from E-Mail", got[0].Mapping)
	}

	code, out, errOut = desilo(t, "discover", "-c", example, "--source", "shop")
	if code != 0 || !strings.Contains(out, "orders") || !strings.Contains(out, "order (desilo.yaml)") || strings.Contains(out, "contacts") {
		t.Fatalf("discover --source shop: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = desilo(t, "check", "-c", example)
	if code != 0 || strings.Count(out, " ok") != 4 {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
}

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "desilo.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	broken := writeConfig(t, "version: 1\nsources:\n  - name: crm\n    conector: files\n")
	missingFiles := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - name: legacy
    connector: files
    config:
      streams: [{name: contacts, paths: [nowhere/*.csv], primary_key: [id]}]
`)
	missingMbox := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - {name: mail, connector: imap, config: {mbox: [nowhere/*.mbox]}}
`)
	badSourceConfig := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - name: legacy
    connector: files
    config:
      streams: [{name: contacts, paths: nowhere.csv, primary_key: [id]}]
`)
	unmapped := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - name: legacy
    connector: files
    config:
      streams: [{name: contacts, paths: [a.csv], primary_key: [id]}]
`)
	failingSource := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - name: legacy
    connector: files
    config:
      streams: [{name: contacts, paths: [contacts.csv.gz], primary_key: [id]}]
    mapping:
      contacts: {entity: customer, fields: {email: email}}
`)
	// Not gzip at all: the read fails.
	if err := os.WriteFile(filepath.Join(filepath.Dir(failingSource), "contacts.csv.gz"), []byte("id,email\n1,a@b.de\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badMapping := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - name: legacy
    connector: files
    config:
      streams: [{name: contacts, paths: [a.csv], primary_key: [id]}]
    mapping:
      contacts:
        entity: customer
        fields: {emial: email}
`)
	badSurvivorship := writeConfig(t, `version: 1
identity: {default_region: DE}
profile: {survivorship: {fields: {lastname: {rule: most_recent}}}}
sources:
  - {name: legacy, connector: files, config: {streams: [{name: contacts, paths: [a.csv], primary_key: [id]}]}}
`)
	unknownConnector := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - {name: legacy, connector: nosuch}
`)
	// sync used to exit 4 (a source failed) for a connector that is not
	// found, where check and discover say 3: the config is invalid.
	unknownBesideAGoodOne := writeConfig(t, `version: 1
identity: {default_region: DE}
sources:
  - {name: legacy, connector: nosuch}
  - name: crm
    connector: files
    config:
      streams: [{name: contacts, paths: [contacts.csv], primary_key: [id]}]
    mapping:
      contacts: {entity: customer, fields: {email: email}}
`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(unknownBesideAGoodOne), "contacts.csv"), []byte("id,email\n1,a@example.de\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown command", []string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{"unknown flag", []string{"check", "--nope"}, exitUsage, "unknown flag: --nope"},
		{"bad log level", []string{"version", "--log-level", "loud"}, exitUsage, "--log-level"},
		{"unknown source", []string{"check", "-c", example, "--source", "nope"}, exitUsage, `--source "nope"`},
		{"config file missing", []string{"validate", "-c", "/nonexistent/desilo.yaml"}, exitConfig, "no such file"},
		{"config with a typo", []string{"validate", "-c", broken}, exitConfig, `:4: sources[0].conector`},
		{"source config invalid", []string{"validate", "-c", badSourceConfig}, exitConfig, "desilo.yaml:7"},
		{"mapping to an unknown field", []string{"validate", "-c", badMapping}, exitConfig, `desilo.yaml:11: sources[0].mapping.contacts.fields.emial: mapping contacts.emial: unknown target field "emial" (did you mean "email"?)`},
		{"survivorship of an unknown field", []string{"validate", "-c", badSurvivorship}, exitConfig, "lastname"},
		{"source config invalid at check", []string{"check", "-c", badSourceConfig}, exitConfig, "paths"},
		{"connector not found", []string{"check", "-c", unknownConnector, "--plugin-dir", t.TempDir()}, exitConfig, `"nosuch" is not built in`},
		{"connector not found at sync", []string{"sync", "-c", unknownConnector, "--plugin-dir", t.TempDir()}, exitConfig, `"nosuch" is not built in`},
		{"connector not found at sync, the other source synced", []string{"sync", "-c", unknownBesideAGoodOne, "--plugin-dir", t.TempDir()}, exitConfig, `"nosuch" is not built in`},
		// The connector says the config is wrong (connector.ErrConfig).
		{"check of a path that matches no file", []string{"check", "-c", missingFiles}, exitConfig, "nowhere/*.csv"},
		{"check fails", []string{"check", "-c", failingSource}, exitSource, "contacts.csv.gz"},
		{"sync of an mbox pattern that matches no file", []string{"sync", "-c", missingMbox}, exitConfig, "matches no file"},
		{"first sync whose only source fails", []string{"sync", "-c", failingSource}, exitSource, "nothing was published"},
		// desilo.yaml maps nothing of the source: its config is what to fix.
		{"a source with nothing mapped", []string{"sync", "-c", unmapped}, exitConfig, "no stream has a mapping"},
		{"build with nothing staged", []string{"build", "-c", missingFiles}, exitFailure, "nothing is staged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := desilo(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output does not say %q\nstdout: %s\nstderr: %s", tt.want, out, errOut)
			}
		})
	}
}

func TestHelpListsExitCodes(t *testing.T) {
	code, out, _ := desilo(t, "--help")
	if code != 0 || !strings.Contains(out, "Exit codes:") || !strings.Contains(out, "5    another run holds") {
		t.Fatalf("help (exit %d) lacks the exit codes:\n%s", code, out)
	}
}

func TestConnectorSpec(t *testing.T) {
	code, out, errOut := desilo(t, "connector", "spec", "files")
	if code != 0 || !strings.Contains(out, "streams[].paths (array of string, required)") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = desilo(t, "connector", "spec", "hubspot", "--json")
	var spec struct {
		Name         string          `json:"name"`
		ConfigSchema json.RawMessage `json:"config_schema"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &spec) != nil || spec.Name != "hubspot" || len(spec.ConfigSchema) == 0 {
		t.Fatalf("spec --json: exit %d\n%s", code, out)
	}
}

// A connector that is not found is a configuration error (3), and the
// message names the connector, not a source.
func TestConnectorSpecNotFound(t *testing.T) {
	t.Setenv("DESILO_PLUGIN_PATH", t.TempDir())
	code, _, errOut := desilo(t, "connector", "spec", "nosuch")
	if code != exitConfig || !strings.Contains(errOut, `connector not found: "nosuch"`) || strings.Contains(errOut, "source") {
		t.Fatalf("spec of a missing connector: exit %d, want %d, and an error naming the connector alone:\n%s", code, exitConfig, errOut)
	}
}

func TestInitWritesAValidConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desilo.yaml")
	for _, v := range []string{"HUBSPOT_TOKEN", "SHOPIFY_SHOP", "SHOPIFY_TOKEN", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_TOKEN", "IMAP_HOST", "IMAP_USER", "IMAP_PASSWORD"} {
		t.Setenv(v, "set-by-the-test")
	}
	if code, out, errOut := desilo(t, "init", "-c", path, "--region", "at"); code != 0 || !strings.Contains(out, "wrote "+path) {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "default_region: AT") {
		t.Fatalf("init wrote %s (%v)", b, err)
	}
	if code, out, errOut := desilo(t, "validate", "-c", path); code != 0 {
		t.Fatalf("validate of the scaffold: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := desilo(t, "init", "-c", path); code != exitUsage || !strings.Contains(errOut, "--force") {
		t.Fatalf("init over an existing file: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := desilo(t, "init", "-c", path, "--region", "XX", "--force"); code != exitUsage {
		t.Fatalf("init with a bad region: exit %d\n%s", code, errOut)
	}
}

// A survivorship rule for a field that does not exist is placed at its
// line, like the config's other errors.
func TestValidatePlacesSurvivorshipErrors(t *testing.T) {
	cfg := writeConfig(t, `version: 1
identity: {default_region: DE}
profile:
  survivorship:
    fields:
      lastname: {rule: most_recent}
      city: {rule: most_recent}
sources:
  - {name: legacy, connector: files, config: {streams: [{name: contacts, paths: [a.csv], primary_key: [id]}]}}
`)
	code, _, errOut := desilo(t, "validate", "-c", cfg)
	if code != exitConfig || !strings.Contains(errOut, `desilo.yaml:6: profile.survivorship.fields.lastname: not a profile field`) ||
		!strings.Contains(errOut, `desilo.yaml:7: profile.survivorship.fields.city: the address`) {
		t.Errorf("exit %d, want %d and each error at its line\n%s", code, exitConfig, errOut)
	}
}

// validate must fail (exit 3, naming the culprit) on a config that sync
// would refuse, or run with in silence and get wrong: an identity key on
// a field no record has links nothing, so sync would exit 0 with far more
// customers.
func TestValidateCatchesWhatSyncRefusesOrIgnores(t *testing.T) {
	dir := copyExample(t)
	base, err := os.ReadFile(filepath.Join(dir, "desilo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"identity key on a field the model does not have", "  default_region: DE", "  default_region: DE\n  keys: [{name: email, normalize: email}, {name: mail2, field: emial}]",
			[]string{`desilo.yaml:13: identity.keys[1].field: "emial" is not a field of a mapped record (did you mean "email"?)`}},
		{"composite key part the model does not have", "  default_region: DE", "  default_region: DE\n  keys: [{name: email, normalize: email}, {name: pn, composite: [phone, frist_name]}]",
			[]string{`desilo.yaml:13: identity.keys[1].composite[1]: "frist_name" is not a field of a mapped record (did you mean "first_name"?)`}},
		// sync exits with "connector not found".
		{"unknown connector", "connector: files", "connector: filez",
			[]string{`desilo.yaml:17: sources[0].connector: connector not found: "filez" is not built in`, `(did you mean "files"?)`}},
		// sync exits 3 before it runs; validate said valid.
		{"BigQuery partition field the table does not have", "  parquet: {path: out}", "  parquet: {path: out}\n  bigquery:\n    project: p\n    dataset: d\n    tables: {customer: {partition_field: nosuch}}",
			[]string{`desilo.yaml:18: output.bigquery.tables.customer.partition_field: table customer has no column "nosuch"`}},
		{"BigQuery clustering column with a typo", "  parquet: {path: out}", "  parquet: {path: out}\n  bigquery:\n    project: p\n    dataset: d\n    tables:\n      event:\n        clustering: [customer_id, chanel]",
			[]string{`desilo.yaml:20: output.bigquery.tables.event.clustering: table event has no column "chanel" (did you mean "channel"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := strings.Replace(string(base), tt.old, tt.new, 1)
			if s == string(base) {
				t.Fatalf("%q not in the example", tt.old)
			}
			cfg := filepath.Join(dir, "desilo.yaml")
			if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := desilo(t, "validate", "-c", cfg, "--plugin-dir", t.TempDir())
			for _, want := range tt.want {
				if code != exitConfig || !strings.Contains(errOut, want) {
					t.Errorf("validate: exit %d, want %d saying %q\n%s%s", code, exitConfig, want, out, errOut)
				}
			}
		})
	}
}

// validate cannot know a connector's streams without running it; check
// runs it, and says what extract would refuse: here a mapping of a stream
// the source does not offer, which check used to pass.
func TestCheckReportsAMappingOfAStreamNotOffered(t *testing.T) {
	dir := copyExample(t)
	cfg := filepath.Join(dir, "desilo.yaml")
	editFile(t, cfg, func(y string) string {
		return strings.Replace(y, "      contacts:\n        entity: customer", "      contactz:\n        entity: customer", 1)
	})
	const want = `desilo.yaml:26: sources[0].mapping.contactz: connector files offers no stream "contactz" (did you mean "contacts"?)`
	code, out, errOut := desilo(t, "check", "-c", cfg)
	if code != exitConfig || !strings.Contains(out, want) || !strings.Contains(out, "shop") {
		t.Errorf("check: exit %d, want %d saying %q\n%s%s", code, exitConfig, want, out, errOut)
	}
	code, _, errOut = desilo(t, "discover", "-c", cfg)
	if code != exitConfig || !strings.Contains(errOut, want) {
		t.Errorf("discover: exit %d, want %d saying %q\n%s", code, exitConfig, want, errOut)
	}
}

// An interruption says so, not "context canceled".
func TestExitCodeSaysInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{context.Canceled, "desilo: interrupted\n"},
		{fmt.Errorf("source crm: %w", context.Canceled), "desilo: interrupted: source crm: context canceled\n"},
	} {
		var out bytes.Buffer
		if code := exitCode(ctx, tt.err, &out, false); code != exitInterrupted || out.String() != tt.want {
			t.Errorf("exitCode(%v) = %d, %q; want %d, %q", tt.err, code, out.String(), exitInterrupted, tt.want)
		}
	}
	var out bytes.Buffer
	exitCode(context.Background(), errors.New("disk full"), &out, false)
	if out.String() != "desilo: disk full\n" {
		t.Errorf("a plain error printed as %q", out.String())
	}
	if plural(1, "source") != "1 source" || plural(2, "source") != "2 sources" {
		t.Errorf("plural: %q, %q", plural(1, "source"), plural(2, "source"))
	}
}
