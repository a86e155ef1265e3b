package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// problems returns the rendered lines of err, which must be Errors.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v (%T) is not config.Errors", err, err)
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return lines
}

func TestDesignExample(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "shopify")
	if err := os.WriteFile(secret, []byte("shpat_123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/design.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example reads a secret from /run/secrets; point it at a file that exists here.
	data = []byte(strings.Replace(string(data), "/run/secrets/shopify", secret, 1))
	t.Setenv("HUBSPOT_TOKEN", "pat-eu1-abc")

	c, err := Parse("desilo.yaml", data, dir)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if c.Version != 1 || c.StateDir != filepath.Join(dir, ".desilo") || c.Dir != dir {
		t.Errorf("version %d, state_dir %q, dir %q", c.Version, c.StateDir, c.Dir)
	}
	if len(c.Sources) != 3 {
		t.Fatalf("got %d sources, want 3", len(c.Sources))
	}
	crm, ok := c.Source("crm")
	if !ok || crm.Connector != "hubspot" || string(crm.Config) != `{"token":"pat-eu1-abc"}` || crm.Line != 4 {
		t.Errorf("crm = %+v (config %s)", crm, crm.Config)
	}
	shop, _ := c.Source("shop")
	if string(shop.Config) != `{"shop":"acme-store","token":"shpat_123"}` {
		t.Errorf("shop config = %s", shop.Config)
	}
	legacy, _ := c.Source("legacy")
	var files struct {
		Streams []struct {
			Name       string   `json:"name"`
			Paths      []string `json:"paths"`
			PrimaryKey []string `json:"primary_key"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(legacy.Config, &files); err != nil || len(files.Streams) != 1 || files.Streams[0].PrimaryKey[0] != "Kundennummer" {
		t.Errorf("legacy config = %s (%v)", legacy.Config, err)
	}
	wantMapping := connector.Mapping{Entity: "customer", Fields: map[string]connector.Expr{
		"email":      connector.P("E-Mail"),
		"phone":      connector.P("Telefon"),
		"last_name":  connector.P("Nachname"),
		"updated_at": {Path: "Geändert", Layout: "02.01.2006 15:04"},
	}}
	if got := legacy.Mapping["contacts"]; !reflect.DeepEqual(got, wantMapping) {
		t.Errorf("mapping = %+v, want %+v", got, wantMapping)
	}
	if _, ok := c.Source("nope"); ok {
		t.Error(`Source("nope") found something`)
	}

	wantKeys := []Key{
		{Name: "email", Field: "email", Normalize: NormalizeEmail, MaxRecordsPerValue: 50, Blocklist: []string{}, UseDefaultBlocklist: true},
		{Name: "phone", Field: "phone", Normalize: NormalizePhone, MaxRecordsPerValue: 10, Blocklist: []string{}, UseDefaultBlocklist: true},
		{Name: "name_dob_zip", Composite: []string{"last_name", "birth_date", "postal_code"}, MaxRecordsPerValue: 50, Blocklist: []string{}, UseDefaultBlocklist: true},
	}
	if !reflect.DeepEqual(c.Identity.Keys, wantKeys) {
		t.Errorf("keys = %+v\nwant %+v", c.Identity.Keys, wantKeys)
	}
	// As identity normalizes them: birth_date is a date.
	wantParts := []KeyPart{{"last_name", NormalizeName}, {"birth_date", "date"}, {"postal_code", NormalizePostalCode}}
	if got := c.Identity.Keys[2].Parts(); !reflect.DeepEqual(got, wantParts) {
		t.Errorf("composite parts = %+v", got)
	}
	if c.Identity.DefaultRegion != "DE" || !reflect.DeepEqual(c.Identity.Limits, []Limit{{ID: "hubspot_contact_id", MaxPerCustomer: 1}}) {
		t.Errorf("identity = %+v", c.Identity)
	}
	surv := c.Profile.Survivorship
	if got := surv.For("last_name"); got.Rule != SourcePriority || !reflect.DeepEqual(got.SourcePriority, []string{"crm", "shop"}) {
		t.Errorf("last_name rule = %+v", got)
	}
	if got := surv.For("email"); got.Rule != MostRecent || got.SourcePriority != nil {
		t.Errorf("email rule = %+v", got)
	}
	if c.Output.Parquet.Path != filepath.Join(dir, "out") || c.Output.Parquet.RowGroupSize != 100_000 {
		t.Errorf("parquet = %+v", c.Output.Parquet)
	}
	if bq := c.Output.BigQuery; bq == nil || bq.Project != "acme-analytics" || bq.Dataset != "customer360" {
		t.Errorf("bigquery = %+v", bq)
	}
	if want := []string{"pat-eu1-abc", "shpat_123"}; !reflect.DeepEqual(c.Secrets(), want) {
		t.Errorf("Secrets() = %q, want %q", c.Secrets(), want)
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse("desilo.yaml", []byte("version: 1\nidentity: {default_region: DE}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File: "desilo.yaml", Dir: dir, Version: 1,
		StateDir: filepath.Join(dir, ".desilo"),
		Sources:  []Source{},
		Identity: Identity{DefaultRegion: "DE", Limits: []Limit{}, Keys: []Key{
			{Name: "email", Field: "email", Normalize: NormalizeEmail, MaxRecordsPerValue: 50, Blocklist: []string{}, UseDefaultBlocklist: true},
			{Name: "phone", Field: "phone", Normalize: NormalizePhone, MaxRecordsPerValue: 50, Blocklist: []string{}, UseDefaultBlocklist: true},
		}},
		Profile: Profile{Survivorship: Survivorship{Default: MostRecent}},
		Output:  Output{Parquet: Parquet{Path: filepath.Join(dir, "out"), RowGroupSize: 100_000}},
		Run:     Run{MaxRejectRatio: 0.05, IdleTimeout: 5 * time.Minute, LogLevel: slog.LevelInfo},
	}
	c.doc = nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestDefaultsPerEntry(t *testing.T) {
	dir := t.TempDir()
	const yml = `version: 1
state_dir: /var/lib/desilo
sources:
  - name: crm
    connector: hubspot
    plugin: {path: bin/desilo-connector-hubspot, sha256: ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789}
identity:
  keys:
    - {name: crm_id, field: ids.hubspot_contact_id}
    - {name: surname, field: last_name, blocklist: [unknown], use_default_blocklist: false, email: {strip_dots: true}}
profile:
  survivorship:
    default: source_priority
    source_priority: [crm]
    fields:
      phone: {rule: most_frequent}
      email: {rule: source_priority}
output:
  parquet: {path: /data/out, row_group_size: 5000}
  bigquery:
    project: p
    dataset: d
    credentials_file: keys/sa.json
    tables:
      event: {partition_field: occurred_at, clustering: [customer_id]}
      customer: {clustering: [customer_id]}
run: {max_reject_ratio: 0, idle_timeout: 90s, source_timeout: 2h, log_level: debug}
`
	c, err := Parse("desilo.yaml", []byte(yml), dir)
	if err != nil {
		t.Fatal(err)
	}
	crm := c.Sources[0]
	if string(crm.Config) != "{}" || crm.Plugin.Path != filepath.Join(dir, "bin/desilo-connector-hubspot") ||
		crm.Plugin.SHA256 != "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789" {
		t.Errorf("source = %+v (config %s)", crm, crm.Config)
	}
	if c.StateDir != "/var/lib/desilo" || c.Output.Parquet != (Parquet{Path: "/data/out", RowGroupSize: 5000}) {
		t.Errorf("state_dir %q, parquet %+v", c.StateDir, c.Output.Parquet)
	}
	wantKeys := []Key{
		{Name: "crm_id", Field: "ids.hubspot_contact_id", Normalize: NormalizeNone, MaxRecordsPerValue: 50, Blocklist: []string{}, UseDefaultBlocklist: true},
		{Name: "surname", Field: "last_name", Normalize: NormalizeName, MaxRecordsPerValue: 50, Blocklist: []string{"unknown"}, Email: EmailRules{StripDots: true}},
	}
	if !reflect.DeepEqual(c.Identity.Keys, wantKeys) {
		t.Errorf("keys = %+v\nwant %+v", c.Identity.Keys, wantKeys)
	}
	surv := c.Profile.Survivorship
	for field, want := range map[string]FieldRule{
		"phone":   {Rule: MostFrequent},
		"email":   {Rule: SourcePriority, SourcePriority: []string{"crm"}},
		"country": {Rule: SourcePriority, SourcePriority: []string{"crm"}},
	} {
		if got := surv.For(field); !reflect.DeepEqual(got, want) {
			t.Errorf("For(%s) = %+v, want %+v", field, got, want)
		}
	}
	bq := c.Output.BigQuery
	wantTables := map[string]Table{
		"event":    {PartitionField: "occurred_at", Clustering: []string{"customer_id"}}, // no partition_type: see core/sink/bigquery
		"customer": {Clustering: []string{"customer_id"}},
	}
	if bq.CredentialsFile != filepath.Join(dir, "keys/sa.json") || !reflect.DeepEqual(bq.Tables, wantTables) {
		t.Errorf("bigquery = %+v", bq)
	}
	if want := (Run{MaxRejectRatio: 0, IdleTimeout: 90 * time.Second, SourceTimeout: 2 * time.Hour, LogLevel: slog.LevelDebug}); c.Run != want {
		t.Errorf("run = %+v, want %+v", c.Run, want)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DESILO_TEST_SET", "value")
	const src = "version: 1\nidentity: {default_region: DE}\nsources:\n"
	tests := []struct {
		name string
		yml  string
		want []string
	}{
		{"unknown field", src + "  - name: crm\n    conector: hubspot\n", []string{
			`desilo.yaml:4: sources[0].connector: required field is missing`,
			`desilo.yaml:5: sources[0].conector: unknown field (did you mean "connector"?)`,
		}},
		{"unknown top-level field", "version: 1\nidentity: {default_region: DE}\noutputs: {}\n", []string{
			`desilo.yaml:3: outputs: unknown field (did you mean "output"?)`,
		}},
		{"unknown field without a near name", "version: 1\nidentity: {default_region: DE}\nzzzzzz: 1\n", []string{
			`desilo.yaml:3: zzzzzz: unknown field`,
		}},
		{"wrong version", "identity: {default_region: DE}\nversion: 2\n", []string{
			`desilo.yaml:2: version: must be 1`,
		}},
		{"missing version", "identity: {default_region: DE}\n", []string{
			`desilo.yaml:1: version: required field is missing`,
		}},
		{"empty file", "", []string{
			`desilo.yaml:1: version: required field is missing`,
		}},
		{"wrong type", src + "  - name: crm\n    connector: [hubspot]\n", []string{
			`desilo.yaml:5: sources[0].connector: expected string, got list`,
		}},
		{"empty value", src + "  - name:\n    connector: x\n", []string{
			`desilo.yaml:4: sources[0].name: expected string, got an empty value`,
		}},
		{"root not a mapping", "- version: 1\n", []string{
			`desilo.yaml:1: expected mapping, got list`,
		}},
		{"bad enum", "version: 1\nidentity:\n  default_region: DE\n  keys:\n    - {name: email, normalize: emial}\n", []string{
			`desilo.yaml:5: identity.keys[0].normalize: must be one of email, phone, name, postal_code, lower, none (did you mean "email"?)`,
		}},
		{"bad source name", src + "  - {name: CRM, connector: hubspot}\n", []string{
			`desilo.yaml:4: sources[0].name: must be a lower-case name: a letter, then letters, digits or underscores`,
		}},
		{"source name too long", src + "  - {name: crm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx, connector: hubspot}\n", []string{
			`desilo.yaml:4: sources[0].name: must be at most 64 characters long`,
		}},
		{"output in staging", "version: 1\nidentity: {default_region: DE}\nstate_dir: st\noutput: {parquet: {path: st/staging}}\n", []string{
			`desilo.yaml:4: output.parquet.path: is inside state_dir's staging folder, which desilo manages and cleans: put the output beside state_dir (or directly in it)`,
		}},
		{"state_dir in snapshots", "version: 1\nidentity: {default_region: DE}\nstate_dir: out/snapshots/state\noutput: {parquet: {path: out}}\n", []string{
			`desilo.yaml:3: state_dir: is inside output.parquet.path's snapshots folder, whose unknown folders each publish removes, saved states and staging included: put state_dir beside the output`,
		}},
		{"duplicate source", src + "  - {name: crm, connector: hubspot}\n  - {name: shop, connector: shopify}\n  - {name: crm, connector: files}\n", []string{
			`desilo.yaml:6: sources[2].name: source "crm" is defined twice (first at line 4)`,
		}},
		{"duplicate YAML key", "version: 1\nidentity: {default_region: DE}\nversion: 1\n", []string{
			`desilo.yaml:3: version: duplicate key (first at line 1)`,
		}},
		{"unset env var", src + "  - name: crm\n    connector: hubspot\n    config: {token: \"${DESILO_TEST_UNSET}\"}\n", []string{
			`desilo.yaml:6: sources[0].config.token: environment variable DESILO_TEST_UNSET is not set`,
		}},
		{"unset env var in a checked field", "version: 1\nidentity: {default_region: DE}\nstate_dir: ${DESILO_TEST_UNSET}\n", []string{
			`desilo.yaml:3: state_dir: environment variable DESILO_TEST_UNSET is not set`,
		}},
		{"invalid reference", "version: 1\nidentity: {default_region: DE}\nstate_dir: ${A-B}\n", []string{
			`desilo.yaml:3: state_dir: invalid reference ${A-B}: want ${ENV_VAR} or ${file:PATH} (write $${ for a literal ${)`,
		}},
		{"unterminated reference", "version: 1\nidentity: {default_region: DE}\nstate_dir: a${B\n", []string{
			`desilo.yaml:3: state_dir: unterminated reference "${" (write $${ for a literal ${)`,
		}},
		{"missing secret file", src + "  - name: crm\n    connector: hubspot\n    config:\n      token: ${file:absent}\n", []string{
			`desilo.yaml:7: sources[0].config.token: secret file: open ` + filepath.Join(dir, "absent") + `: no such file or directory`,
		}},
		{"bad sha256", src + "  - name: crm\n    connector: hubspot\n    plugin: {sha256: abc123}\n", []string{
			`desilo.yaml:6: sources[0].plugin.sha256: must be a SHA-256 checksum: 64 hexadecimal digits`,
		}},
		{"empty plugin", src + "  - name: crm\n    connector: hubspot\n    plugin: {}\n", []string{
			`desilo.yaml:6: sources[0].plugin: must not be empty`,
		}},
		{"composite with field", "version: 1\nidentity:\n  keys:\n    - name: k\n      composite: [last_name, postal_code]\n      field: x\n", []string{
			`desilo.yaml:6: identity.keys[0].field: not allowed together with "composite"`,
		}},
		{"composite of one field", "version: 1\nidentity:\n  keys:\n    - {name: k, composite: [last_name]}\n", []string{
			`desilo.yaml:4: identity.keys[0].composite: needs at least 2 items`,
		}},
		{"duplicate key name", "version: 1\nidentity:\n  keys:\n    - {name: k, field: email}\n    - {name: k, field: last_name}\n", []string{
			`desilo.yaml:5: identity.keys[1].name: key "k" is defined twice (first at line 4)`,
		}},
		// A key on a field no record has links nothing, in silence.
		{"key field the model does not have", "version: 1\nidentity:\n  default_region: DE\n  keys:\n    - {name: email, normalize: email}\n    - {name: mail, field: emial}\n    - {name: crm, field: ids.crm_contact_id}\n", []string{
			`desilo.yaml:6: identity.keys[1].field: "emial" is not a field of a mapped record (did you mean "email"?)`,
		}},
		{"composite part the model does not have", "version: 1\nidentity:\n  default_region: DE\n  keys:\n    - name: pn\n      composite: [phone, frist_name, ids.crm]\n", []string{
			`desilo.yaml:6: identity.keys[0].composite[1]: "frist_name" is not a field of a mapped record (did you mean "first_name"?)`,
		}},
		{"key named after no field", "version: 1\nidentity:\n  keys:\n    - {name: mail}\n", []string{
			`desilo.yaml:4: identity.keys[0].name: no field is set, so the key reads "mail", which is not a field of a mapped record (did you mean "email"?)`,
		}},
		{"phone key needs a region", "version: 1\n", []string{
			`desilo.yaml:1: identity.default_region: required because key "phone" normalizes phone numbers: set the ISO 3166 country (e.g. DE) of numbers written without a country code`,
		}},
		{"composite phone part needs a region", "version: 1\nidentity:\n  keys:\n    - {name: k, composite: [last_name, phone]}\n", []string{
			`desilo.yaml:2: identity.default_region: required because key "k" normalizes phone numbers: set the ISO 3166 country (e.g. DE) of numbers written without a country code`,
		}},
		{"no region needed without phone", "version: 1\nidentity:\n  keys: [{name: email}]\nsources: [{name: a, connector: b, config: {x: 1}}]\noutputs: 1\n", []string{
			`desilo.yaml:5: outputs: unknown field (did you mean "output"?)`,
		}},
		{"unknown region", "version: 1\nidentity: {default_region: UK}\n", []string{
			`desilo.yaml:2: identity.default_region: "UK" is not an ISO 3166 region with a phone numbering plan (did you mean "GB"?)`,
		}},
		{"survivorship unknown source", src + "  - {name: crm, connector: hubspot}\n  - {name: shop, connector: shopify}\nprofile:\n  survivorship:\n    fields:\n      last_name: {source_priority: [crm, shp]}\n", []string{
			`desilo.yaml:9: profile.survivorship.fields.last_name.source_priority[1]: unknown source "shp" (did you mean "shop"?)`,
		}},
		{"source_priority default without list", "version: 1\nidentity: {default_region: DE}\nprofile: {survivorship: {default: source_priority}}\n", []string{
			`desilo.yaml:3: profile.survivorship.source_priority: required because the default rule is source_priority`,
		}},
		{"rule contradicts list", src + "  - {name: crm, connector: hubspot}\nprofile: {survivorship: {fields: {phone: {rule: most_recent, source_priority: [crm]}}}}\n", []string{
			`desilo.yaml:5: profile.survivorship.fields.phone.rule: source_priority is set but the rule is most_recent`,
		}},
		{"mapping for a stream not read", src + "  - name: crm\n    connector: hubspot\n    streams: [contacts]\n    mapping:\n      contact: {entity: customer, fields: {email: email}}\n", []string{
			`desilo.yaml:8: sources[0].mapping.contact: a mapping for stream "contact", which streams does not list (did you mean "contacts"?)`,
		}},
		{"mapping errors", src + `  - name: crm
    connector: hubspot
    mapping:
      contacts:
        entity: custmer
        fields:
          email: {pth: x}
          phone: {path: a, concat: [b]}
          ids.crm: 5
          first_name: {coalesce: [a, {path: b, lower: yes}]}
`, []string{
			`desilo.yaml:8: sources[0].mapping.contacts.entity: must be one of customer, order, ticket, message, event (did you mean "customer"?)`,
			`desilo.yaml:10: sources[0].mapping.contacts.fields.email: set exactly one of path, coalesce, concat, const`,
			`desilo.yaml:10: sources[0].mapping.contacts.fields.email.pth: unknown field (did you mean "path"?)`,
			`desilo.yaml:11: sources[0].mapping.contacts.fields.phone: set exactly one of path, coalesce, concat, const`,
			`desilo.yaml:12: sources[0].mapping.contacts.fields["ids.crm"]: expected string or mapping, got number`,
			`desilo.yaml:13: sources[0].mapping.contacts.fields.first_name.coalesce[1].lower: expected boolean, got string`,
		}},
		{"bigquery", "version: 1\nidentity: {default_region: DE}\noutput:\n  bigquery:\n    project: p\n    tables:\n      custmer: {}\n      event: {partition_type: WEEK, clustering: [a, b, c, d, e]}\n", []string{
			`desilo.yaml:4: output.bigquery.dataset: required field is missing`,
			`desilo.yaml:7: output.bigquery.tables.custmer: unknown field (did you mean "customer"?)`,
			`desilo.yaml:8: output.bigquery.tables.event.clustering: takes at most 4 items`,
			`desilo.yaml:8: output.bigquery.tables.event.partition_type: must be one of DAY, HOUR, MONTH, YEAR`,
			`desilo.yaml:8: output.bigquery.tables.event.partition_type: needs partition_field to be set too`,
		}},
		{"run", "version: 1\nidentity: {default_region: DE}\nrun:\n  max_reject_ratio: 1.5\n  idle_timeout: 5 minutes\n", []string{
			`desilo.yaml:4: run.max_reject_ratio: must be at most 1`,
			`desilo.yaml:5: run.idle_timeout: must be a duration such as 90s, 5m or 1h30m, or 0`,
		}},
		{"invalid YAML", "version: 1\nsources: [a\n", []string{
			`desilo.yaml:2: invalid YAML: did not find expected ',' or ']'`,
		}},
		{"tab indentation", "version: 1\n\tsources: []\n", []string{
			`desilo.yaml:2: invalid YAML: found a tab character that violates indentation`,
		}},
		{"two documents", "version: 1\nidentity: {default_region: DE}\n---\nversion: 1\n", []string{
			`desilo.yaml:3: a second YAML document: the file must hold exactly one`,
		}},
		{"unsupported tag", "version: 1\nidentity: {default_region: DE}\nstate_dir: !vault secret/x\n", []string{
			`desilo.yaml:3: state_dir: unsupported YAML tag !vault`,
		}},
		{"infinite number", "version: 1\nidentity: {default_region: DE}\nrun: {max_reject_ratio: .inf}\n", []string{
			`desilo.yaml:3: run.max_reject_ratio: the number is not finite`,
		}},
		{"errors sorted by line", "zzz: 1\nversion: 3\nidentity: {default_region: DE}\nsources: [{name: a, connector: b, x: 1}]\nrun: {log_level: loud}\n", []string{
			`desilo.yaml:1: zzz: unknown field`,
			`desilo.yaml:2: version: must be 1`,
			`desilo.yaml:4: sources[0].x: unknown field`,
			`desilo.yaml:5: run.log_level: must be one of debug, info, warn, error`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("desilo.yaml", []byte(tt.yml), dir)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			got := problems(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// The output and state_dir may share a folder, or one hold the other,
// as long as neither sits in a folder the other manages.
func TestFoldersMayNest(t *testing.T) {
	for _, folders := range []string{
		"state_dir: .desilo\noutput: {parquet: {path: .desilo}}",
		"state_dir: .desilo\noutput: {parquet: {path: .desilo/out}}",
		"state_dir: out/state\noutput: {parquet: {path: out}}",
		"state_dir: data/.desilo\noutput: {parquet: {path: data/staging}}",
	} {
		if _, err := Parse("desilo.yaml", []byte("version: 1\nidentity: {default_region: DE}\n"+folders+"\n"), t.TempDir()); err != nil {
			t.Errorf("%q: %v", folders, err)
		}
	}
}

func TestReferences(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "pw"), []byte("s3cret\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DESILO_TEST_USER", "ann")
	t.Setenv("DESILO_TEST_YAML", "a: b\n- c")
	t.Setenv("DESILO_TEST_EMPTY", "")
	const yml = `version: 1
identity: {default_region: DE}
sources:
  - name: db
    connector: postgres
    config:
      dsn: "postgres://${DESILO_TEST_USER}:${file:secrets/pw}@db/crm"
      literal: "price $${AMOUNT} and $5 and $$"
      injected: ${DESILO_TEST_YAML}
      empty: "${DESILO_TEST_EMPTY}"
      number: 5
      ${DESILO_TEST_USER}: keys are not expanded
`
	c, err := Parse("desilo.yaml", []byte(yml), dir)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(c.Sources[0].Config, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"dsn":                 "postgres://ann:s3cret@db/crm",
		"literal":             "price ${AMOUNT} and $5 and $$",
		"injected":            "a: b\n- c",
		"empty":               "",
		"number":              5.0,
		"${DESILO_TEST_USER}": "keys are not expanded",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config = %v\nwant %v", got, want)
	}
	if want := []string{"a: b\n- c", "s3cret", "ann"}; !reflect.DeepEqual(c.Secrets(), want) {
		t.Errorf("Secrets() = %q, want %q", c.Secrets(), want)
	}

	_, err = Parse("desilo.yaml", []byte("version: 1\nstate_dir: ${file:secrets/absent}\n"), dir)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing secret file: %v, want an error that is os.ErrNotExist", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q holds a secret", err)
	}
}

func TestAnchorsAndMerges(t *testing.T) {
	const yml = `version: 1
identity: {default_region: DE}
x-common: &common
  connector: hubspot
  config: {region: eu}
sources:
  - <<: *common
    name: a
  - <<: *common
    name: b
    config: {region: us}
`
	_, err := Parse("desilo.yaml", []byte(yml), t.TempDir())
	// x-common is not a field of desilo.yaml: anchors must live inside a known field.
	if want := []string{`desilo.yaml:3: x-common: unknown field`}; !reflect.DeepEqual(problems(t, err), want) {
		t.Fatalf("got %v", err)
	}

	const ok = `version: 1
identity: {default_region: DE}
sources:
  - &a
    name: a
    connector: hubspot
    config: {region: eu}
  - <<: *a
    name: b
    config: {region: us}
  - <<: [*a]
    name: c
`
	c, err := Parse("desilo.yaml", []byte(ok), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ name, config string }{{"a", `{"region":"eu"}`}, {"b", `{"region":"us"}`}, {"c", `{"region":"eu"}`}} {
		s := c.Sources[i]
		if s.Name != want.name || s.Connector != "hubspot" || string(s.Config) != want.config {
			t.Errorf("source %d = %s %s %s", i, s.Name, s.Connector, s.Config)
		}
	}

	const bad = `version: 1
identity: {default_region: DE}
sources:
  - &a {name: a, connector: hubspot}
  - <<: *a
    conector: x
`
	_, err = Parse("desilo.yaml", []byte(bad), t.TempDir())
	want := []string{`desilo.yaml:6: sources[1].conector: unknown field (did you mean "connector"?)`}
	if got := problems(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAliasBombs(t *testing.T) {
	laughs := "version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 9; i++ {
		prev := fmt.Sprintf("*a%d", i-1)
		laughs += fmt.Sprintf("a%d: &a%d [%s%s]\n", i, i, strings.Repeat(prev+", ", 9), prev)
	}
	for name, yml := range map[string]string{
		"billion laughs":        laughs,
		"self-merge":            "version: 1\nx: &a\n  <<: *a\n",
		"self-reference":        "version: 1\nx: &a {b: *a, c: *a}\n",
		"self-referencing list": "&a [*a, *a]\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("desilo.yaml", []byte(yml), t.TempDir())
			got := problems(t, err)
			if len(got) != 1 || !strings.Contains(got[0], "the document is too large or too deeply nested") {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conf", "desilo.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("version: 1\nidentity: {default_region: DE}\nstate_dir: ../state\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != path || c.StateDir != filepath.Join(dir, "state") {
		t.Errorf("file %q, state_dir %q", c.File, c.StateDir)
	}
	if _, err := Load(filepath.Join(dir, "absent.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	if want := []string{path + ":1: version: must be 1"}; !reflect.DeepEqual(problems(t, err), want) {
		t.Errorf("got %v", err)
	}
}

func TestErrorAt(t *testing.T) {
	const yml = `version: 1
identity: {default_region: DE}
sources:
  - name: crm
    connector: hubspot
    config:
      token: abc
      portals:
        - id: 7
`
	c, err := Parse("desilo.yaml", []byte(yml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Source("crm")
	if got := (&Config{File: "built.yaml"}).ErrorAt("/sources/0", "bad").Error(); got != "built.yaml: sources[0]: bad" {
		t.Errorf("ErrorAt on a Config built by hand = %q", got)
	}
	for _, tt := range []struct{ ptr, want string }{
		{s.Pointer() + "/config/token", "desilo.yaml:7: sources[0].config.token: bad"},
		{s.Pointer() + "/config/portals/0/id", "desilo.yaml:9: sources[0].config.portals[0].id: bad"},
		{s.Pointer() + "/config/absent", "desilo.yaml:6: sources[0].config.absent: bad"},
		{"", "desilo.yaml:1: bad"},
	} {
		if got := c.ErrorAt(tt.ptr, "bad").Error(); got != tt.want {
			t.Errorf("ErrorAt(%q) = %q, want %q", tt.ptr, got, tt.want)
		}
	}
}

func TestValidateSourceConfig(t *testing.T) {
	const yml = `version: 1
identity: {default_region: DE}
sources:
  - name: crm
    connector: hubspot
    config:
      tokn: abc
      page_size: many
  - name: ok
    connector: hubspot
    config: {token: abc}
`
	c, err := Parse("desilo.yaml", []byte(yml), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spec := json.RawMessage(`{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"type": "object",
		"additionalProperties": false,
		"required": ["token"],
		"properties": {"token": {"type": "string"}, "page_size": {"type": "integer"}}
	}`)
	want := []string{
		`desilo.yaml:6: sources[0].config.token: required field is missing`,
		`desilo.yaml:7: sources[0].config.tokn: unknown field (did you mean "token"?)`,
		`desilo.yaml:8: sources[0].config.page_size: expected integer, got string`,
	}
	if got := problems(t, c.ValidateSourceConfig("crm", spec)); !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := c.ValidateSourceConfig("ok", spec); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if err := c.ValidateSourceConfig("nope", spec); err == nil || !strings.Contains(err.Error(), `no source "nope"`) {
		t.Errorf("unknown source: %v", err)
	}
	if err := c.ValidateSourceConfig("ok", json.RawMessage(`{"type": 5}`)); err == nil || !strings.Contains(err.Error(), "invalid config schema") {
		t.Errorf("broken schema: %v", err)
	}
}

func TestSourceLogValueHidesConfig(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, nil))
	s := Source{Name: "crm", Connector: "hubspot", Config: json.RawMessage(`{"token":"s3cret"}`)}
	log.Info("x", "source", s)
	if out := b.String(); strings.Contains(out, "s3cret") || !strings.Contains(out, "source.name=crm") {
		t.Errorf("log line %q", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"version: 1\n",
		"version: 1\nidentity: {default_region: DE}\nsources: [{name: a, connector: b, config: {t: '${HOME}'}}]\n",
		"a: &a [*a]\n",
		"<<: {version: 1}\n",
		"sources:\n  - mapping: {s: {entity: customer, fields: {email: {coalesce: [a, {const: 1}]}}}}\n",
		"version: 1\n---\n",
		"? [a]\n: b\n",
	} {
		f.Add([]byte(seed))
	}
	if data, err := os.ReadFile("testdata/design.yaml"); err == nil {
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("desilo.yaml", data, dir)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c, err)
		}
		var errs Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				if !strings.HasPrefix(e.Error(), "desilo.yaml") {
					t.Fatalf("error without the file name: %q", e.Error())
				}
			}
		}
	})
}
