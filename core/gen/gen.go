package gen

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// The files a data set consists of, relative to its folder.
const (
	FileContacts  = "hubspot/contacts.csv"
	FileCompanies = "hubspot/companies.csv"
	FileCustomers = "shopify/customers_export.csv"
	FileOrders    = "shopify/orders_export.csv"
	FileUsers     = "zendesk/users.jsonl"
	FileTickets   = "zendesk/tickets.jsonl"
	FileMbox      = "mail/service.mbox"
	FileSQL       = "woocommerce/woocommerce.sql"
	FileTruth     = "truth.csv"
	FileConfig    = "desilo.yaml"
)

// Source and stream names of the generated desilo.yaml, as they appear in
// the ground truth.
const (
	SourceCRM      = "crm"
	SourceShop     = "shop"
	SourceHelpdesk = "helpdesk"
	SourceMail     = "mail"
	SourceWoo      = "woocommerce" // the SQL dump; not in the offline config
)

// Stats says what Generate wrote.
type Stats struct {
	People int
	// Records counts the records per "source/stream", as in the truth.
	Records map[string]int
	Files   []string // relative to the folder, sorted
	Elapsed time.Duration
}

// Generate writes a data set of o.People people into dir: the silos'
// exports, the WooCommerce SQL dump, the ground truth and a desilo.yaml
// that reads the exports offline. It streams: memory grows only with the
// set of addresses handed out (8 bytes each), not with the records.
// Files are replaced; other files in dir are left alone.
func Generate(ctx context.Context, dir string, o Options) (Stats, error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return Stats{}, fmt.Errorf("gen: %w", err)
	}
	w, err := openWriters(dir)
	if err != nil {
		return Stats{}, err
	}
	g := &generator{o: o, w: w, ppl: newPeople(o), counts: map[string]int{}}
	err = g.run(ctx)
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = writeFile(filepath.Join(dir, FileConfig), configYAML(o))
	}
	if err != nil {
		return Stats{}, err
	}
	files := append(w.names(), FileConfig)
	sort.Strings(files)
	return Stats{People: o.People, Records: g.counts, Files: files, Elapsed: time.Since(start)}, nil
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	return nil
}

// generator walks the people and writes each one's records.
type generator struct {
	o      Options
	w      *writers
	ppl    *people
	counts map[string]int

	contactID, companyID, customerID, orderID, orderNo int64
	userID, ticketID, messageNo, wooCustomerID         int64
	wooUserID, wooOrderID                              int64
}

func (g *generator) run(ctx context.Context) error {
	if err := g.w.sqlHeader(); err != nil {
		return err
	}
	for i := 0; i < g.o.People; i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p := g.ppl.next()
		for _, f := range g.ppl.newFirms {
			g.company(f)
		}
		g.ppl.newFirms = g.ppl.newFirms[:0]
		g.crm(p)
		g.shop(p)
		g.helpdesk(p)
		g.mail(p)
		g.woo(p)
		if err := g.w.err(); err != nil {
			return err
		}
	}
	return g.w.sqlFooter()
}

// truth records that source/stream/key belongs to p.
func (g *generator) truth(source, stream, key string, p *person) {
	g.counts[source+"/"+stream]++
	g.w.truth.Write([]string{source, stream, key, p.id})
}

// Time formats of the exports.
const (
	hubspotTime = "2006-01-02 15:04"          // HubSpot export (UTC here)
	shopifyTime = "2006-01-02 15:04:05 -0700" // Shopify CSV export, shop's time zone

	mailTime = "Mon, 02 Jan 2006 15:04:05 -0700"
)

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// writers are the open output files.
type writers struct {
	dir                       string
	files                     []*outFile
	contacts, companies       *csv.Writer
	customers, orders, truth  *csv.Writer
	users, tickets, mbox, sql *bufio.Writer
	sqlBatches                map[string]*sqlBatch
}

type outFile struct {
	name string
	f    *os.File
	b    *bufio.Writer
	c    *csv.Writer
}

func openWriters(dir string) (*writers, error) {
	w := &writers{dir: dir, sqlBatches: map[string]*sqlBatch{}}
	open := func(name string) (*outFile, error) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("gen: %w", err)
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("gen: %w", err)
		}
		of := &outFile{name: name, f: f, b: bufio.NewWriterSize(f, 256<<10)}
		w.files = append(w.files, of)
		return of, nil
	}
	csvFile := func(name string, header []string) (*csv.Writer, error) {
		of, err := open(name)
		if err != nil {
			return nil, err
		}
		of.c = csv.NewWriter(of.b)
		return of.c, of.c.Write(header)
	}
	plain := func(name string) (*bufio.Writer, error) {
		of, err := open(name)
		if err != nil {
			return nil, err
		}
		return of.b, nil
	}
	var err error
	steps := []func(){
		func() { w.contacts, err = csvFile(FileContacts, contactColumns) },
		func() { w.companies, err = csvFile(FileCompanies, companyColumns) },
		func() { w.customers, err = csvFile(FileCustomers, customerColumns) },
		func() { w.orders, err = csvFile(FileOrders, orderColumns) },
		func() { w.users, err = plain(FileUsers) },
		func() { w.tickets, err = plain(FileTickets) },
		func() { w.mbox, err = plain(FileMbox) },
		func() { w.sql, err = plain(FileSQL) },
		func() { w.truth, err = csvFile(FileTruth, []string{"source", "stream", "record_key", "person_id"}) },
	}
	for _, step := range steps {
		if step(); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

// err returns the first write error of any CSV writer (bufio writers
// keep theirs until close).
func (w *writers) err() error {
	for _, f := range w.files {
		if f.c != nil {
			if err := f.c.Error(); err != nil {
				return fmt.Errorf("gen: %s: %w", f.name, err)
			}
		}
	}
	return nil
}

func (w *writers) names() []string {
	var out []string
	for _, f := range w.files {
		out = append(out, f.name)
	}
	return out
}

// close flushes and closes every file and returns the first error.
func (w *writers) close() error {
	var first error
	keep := func(name string, err error) {
		if err != nil && first == nil {
			first = fmt.Errorf("gen: %s: %w", name, err)
		}
	}
	for _, f := range w.files {
		if f.c != nil {
			f.c.Flush()
			keep(f.name, f.c.Error())
		}
		keep(f.name, f.b.Flush())
		keep(f.name, f.f.Close())
	}
	return first
}
