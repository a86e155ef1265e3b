package gen

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/normalize"
)

func generate(t *testing.T, o Options) (string, Stats) {
	t.Helper()
	dir := t.TempDir()
	st, err := Generate(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func TestSameSeedSameBytes(t *testing.T) {
	o := DefaultOptions()
	o.People = 400
	a, sa := generate(t, o)
	b, _ := generate(t, o)
	if len(sa.Files) != 10 {
		t.Fatalf("files = %v", sa.Files)
	}
	for _, f := range sa.Files {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			t.Fatal(err)
		}
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s: %d and %d bytes, not the same", f, len(x), len(y))
		}
	}
	o.Seed = 2
	c, _ := generate(t, o)
	x, _ := os.ReadFile(filepath.Join(a, FileTruth))
	y, _ := os.ReadFile(filepath.Join(c, FileTruth))
	if bytes.Equal(x, y) {
		t.Error("seeds 1 and 2 gave the same truth.csv")
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// Every record a file holds is in the truth under its key, and the other
// way round.
func TestTruthNamesEveryRecord(t *testing.T) {
	o := DefaultOptions()
	o.People = 500
	dir, st := generate(t, o)
	truth := map[string]string{}
	people := map[string]bool{}
	for i, r := range readCSV(t, filepath.Join(dir, FileTruth)) {
		if i == 0 {
			continue
		}
		k := r[0] + "/" + r[1] + "/" + r[2]
		if _, dup := truth[k]; dup {
			t.Fatalf("truth names %s twice", k)
		}
		truth[k] = r[3]
		people[r[3]] = true
	}
	if len(people) != o.People {
		t.Errorf("truth has %d people, want %d", len(people), o.People)
	}
	check := func(file, source, stream string, keyCol int) {
		rows := readCSV(t, filepath.Join(dir, file))
		for _, r := range rows[1:] {
			if _, ok := truth[source+"/"+stream+"/"+r[keyCol]]; !ok {
				t.Errorf("%s: record %s not in the truth", file, r[keyCol])
			}
		}
		if got := st.Records[source+"/"+stream]; got != len(rows)-1 {
			t.Errorf("%s: %d rows, stats say %d", file, len(rows)-1, got)
		}
	}
	check(FileContacts, SourceCRM, "contacts", 0)
	check(FileCustomers, SourceShop, "customers", 0)
	check(FileOrders, SourceShop, "orders", 36)
	mbox, err := os.ReadFile(filepath.Join(dir, FileMbox))
	if err != nil {
		t.Fatal(err)
	}
	msgs := 0
	for _, line := range strings.Split(string(mbox), "\n") {
		if id, ok := strings.CutPrefix(line, "Message-ID: <"); ok {
			msgs++
			if _, ok := truth["mail/messages/mbox:"+FileMbox+":"+strings.TrimSuffix(id, ">")]; !ok {
				t.Errorf("message %s not in the truth", id)
			}
		}
	}
	if msgs != st.Records["mail/messages"] || msgs == 0 {
		t.Errorf("mbox has %d messages, stats say %d", msgs, st.Records["mail/messages"])
	}
	for _, kind := range []string{"crm/contacts", "shop/customers", "shop/orders", "helpdesk/users", "helpdesk/tickets", "woocommerce/customers", "woocommerce/orders"} {
		if st.Records[kind] == 0 {
			t.Errorf("no %s records", kind)
		}
	}
}

// The numbers and addresses people are given are ones desilo's
// normalizers accept and its blocklist does not throw away, in every
// form they are written in.
func TestValuesNormalize(t *testing.T) {
	o := DefaultOptions()
	o.PhoneIntl = 0.5
	o.EmailNoise = 1
	g := newPeople(o)
	for i := 0; i < 3000; i++ {
		p := g.next()
		for _, nsn := range []string{p.mobile, p.landline} {
			if nsn == "" {
				continue
			}
			area := 3
			if nsn == p.landline {
				area = len(p.city.area)
			}
			want := "+49" + nsn
			for j := 0; j < 6; j++ {
				raw := g.phoneAs(nsn, area)
				got, ok := normalize.Phone(raw, "DE")
				if !ok || got != want {
					t.Fatalf("person %s: phone %q normalizes to %q, %v; want %s", p.id, raw, got, ok, want)
				}
				if identity.Placeholder("phone", got) {
					t.Fatalf("phone %s is a placeholder", got)
				}
			}
		}
		for _, e := range []string{p.email, p.oldEmail} {
			if e == "" {
				continue
			}
			got, ok := normalize.Email(g.emailAs(e), normalize.EmailOptions{})
			if !ok || got != e {
				t.Fatalf("email %q normalizes to %q, %v", e, got, ok)
			}
			if identity.Placeholder("email", got) {
				t.Fatalf("email %s is a placeholder", got)
			}
		}
		if p.firm != nil && !identity.Placeholder("email", "info@"+p.firm.domain) {
			t.Fatalf("info@%s is not blocklisted", p.firm.domain)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"defaults", func(*Options) {}, ""},
		{"no people", func(o *Options) { o.People = 0 }, "people"},
		{"rate above 1", func(o *Options) { o.Typo = 1.5 }, "typo"},
		{"negative rate", func(o *Options) { o.ShopRate = -0.1 }, "shop-rate"},
		{"zero years", func(o *Options) { o.Years = 0 }, "years"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.edit(&o)
			err := o.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestBerlin(t *testing.T) {
	for _, tc := range []struct{ utc, want string }{
		{"2024-01-15T12:00:00Z", "2024-01-15 13:00:00 +0100"},
		{"2024-03-31T00:59:59Z", "2024-03-31 01:59:59 +0100"},
		{"2024-03-31T01:00:00Z", "2024-03-31 03:00:00 +0200"},
		{"2024-10-27T00:59:59Z", "2024-10-27 02:59:59 +0200"},
		{"2024-10-27T01:00:00Z", "2024-10-27 02:00:00 +0100"},
	} {
		u, err := time.Parse(time.RFC3339, tc.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := berlin(u).Format(shopifyTime); got != tc.want {
			t.Errorf("berlin(%s) = %s, want %s", tc.utc, got, tc.want)
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := DefaultOptions()
	if _, err := Generate(ctx, t.TempDir(), o); err == nil {
		t.Fatal("Generate with a cancelled context succeeded")
	}
}

func BenchmarkGenerate(b *testing.B) {
	o := DefaultOptions()
	o.People = 20000
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(context.Background(), dir, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(o.People*b.N)/b.Elapsed().Seconds(), "people/s")
}
