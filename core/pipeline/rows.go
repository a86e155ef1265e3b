package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/desilo/desilo/core/identity"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/rowset"
	"github.com/desilo/desilo/core/sink/parquet"
)

// fieldReader reads the key fields of one table's rows, resolved to
// column positions once.
type fieldReader struct {
	key, ref, created int
	fields            []fieldCol
	ids               int // the ids column, or -1
}

type fieldCol struct {
	at   int    // position in the fields newFieldReader was given
	col  int    // column position, or -1 for an external id
	id   string // the external id's name, for "ids.<name>"
	typ  model.Type
	list bool
}

func col(t *model.Table, name string) int {
	if i, ok := t.Index(name); ok {
		return i
	}
	return -1
}

func newFieldReader(t *model.Table, fields []string) *fieldReader {
	r := &fieldReader{
		key: col(t, "record_key"), ref: col(t, "customer_ref"),
		created: col(t, "created_at"), ids: col(t, "ids"),
	}
	for at, f := range fields {
		if id, ok := strings.CutPrefix(f, "ids."); ok {
			if r.ids >= 0 {
				r.fields = append(r.fields, fieldCol{at: at, col: -1, id: id})
			}
			continue
		}
		if i := col(t, f); i >= 0 {
			r.fields = append(r.fields, fieldCol{at: at, col: i, typ: t.Columns[i].Type, list: t.Columns[i].List})
		}
	}
	return r
}

// fill puts the key-field values of row i of set into vals, by the
// fields' positions (one entry a field, each emptied first).
func (r *fieldReader) fill(set *rowset.Set, i int, vals [][]string) {
	for k := range vals {
		vals[k] = vals[k][:0]
	}
	for _, f := range r.fields {
		vs := vals[f.at]
		switch {
		case f.col < 0:
			var pairs [8]string
			for _, p := range set.AppendStrings(pairs[:0], i, r.ids) {
				if name, v, ok := model.SplitPair(p); ok && name == f.id && v != "" {
					vs = append(vs, v)
				}
			}
		case f.typ == model.String:
			if v := set.String(i, f.col); v != "" {
				vs = append(vs, v)
			}
			if f.list {
				vs = set.AppendStrings(vs, i, f.col)
			}
		default:
			switch v := set.Value(i, f.col).(type) {
			case time.Time:
				layout := time.RFC3339
				if f.typ == model.Date {
					layout = time.DateOnly
				}
				vs = append(vs, v.Format(layout))
			case int64:
				vs = append(vs, strconv.FormatInt(v, 10))
			case float64:
				vs = append(vs, strconv.FormatFloat(v, 'f', -1, 64))
			case bool:
				vs = append(vs, strconv.FormatBool(v))
			}
		}
		vals[f.at] = vs
	}
}

// seen is when row i of set was first seen: its created_at, or the zero
// time (unknown). Never updated_at: it moves when the record is edited,
// and an anchor must not, or an unchanged cluster would change its id.
func seen(set *rowset.Set, i, created int) time.Time {
	if created >= 0 {
		if t, ok := set.Time(i, created); ok {
			return t
		}
	}
	return time.Time{}
}

// previousSnapshot is the snapshot current points at when a build starts,
// which it reads the earlier links and merges from; dir is "" when there
// is none (a first run).
type previousSnapshot struct {
	dir string
	m   parquet.Manifest
}

// readPrevious finds the current snapshot under outDir, once per build.
func readPrevious(outDir string) (previousSnapshot, error) {
	dir, m, err := parquet.Current(outDir)
	if errors.Is(err, fs.ErrNotExist) {
		return previousSnapshot{}, nil
	}
	return previousSnapshot{dir, m}, err
}

// files are the paths of table's files; none when the snapshot does not
// have the table.
func (ps previousSnapshot) files(table string) []string {
	var out []string
	for _, f := range ps.m.Tables[table].Files {
		out = append(out, filepath.Join(ps.dir, f))
	}
	return out
}

// previousAssignments reads the previous snapshot's identity links, so
// that merges are recorded. No snapshot means a first run (nil).
func previousAssignments(ctx context.Context, ps previousSnapshot) (identity.Previous, error) {
	if ps.dir == "" {
		return nil, nil
	}
	mt, ok := ps.m.Tables[linkTable.Name]
	if !ok {
		return nil, fmt.Errorf("snapshot %s has no table %s", ps.dir, linkTable.Name)
	}
	files := ps.files(linkTable.Name)
	p := &streamed{ctx: ctx, files: files, n: int(mt.Rows)}
	// Each needs every previous customer id: the customer table holds
	// each once, where the links hold it once a record.
	p.customers = ps.files("customer")
	return p, nil
}

// holdLinks reads the identity links of files, n of them, whole and
// sorts them for lookups.
func holdLinks(ctx context.Context, files []string, n int) (*previous, error) {
	t := linkTable
	p := &previous{rows: rowset.New(t), src: col(t, "source"), stream: col(t, "stream"), key: col(t, "record_key"), cust: col(t, "customer_id")}
	p.rows.Reserve(n)
	for _, f := range files {
		if err := parquet.ReadInto(ctx, f, p.rows, "source", "stream", "record_key", "customer_id"); err != nil {
			return nil, err
		}
	}
	p.sort()
	return p, nil
}

// linksSorted reports whether the identity links in files are in
// (source, stream, record_key) order, reading a row group at a time.
func linksSorted(ctx context.Context, files []string) (bool, error) {
	c := newCursor(ctx, files, linkTable, "source", "stream", "record_key")
	defer c.close()
	var last identity.RecordRef
	for first := true; ; first = false {
		ok, err := c.next()
		if err != nil || !ok {
			return err == nil, err
		}
		r := c.ref()
		if !first && identity.CompareRefs(last, r) > 0 {
			return false, nil
		}
		last = r
	}
}

// linkCursor steps through the rows of files in file order, holding one
// row group: the identity links, or for Each a customer table. A
// goroutine decodes the next row group while the caller works through
// the current one: identity's lookups in the previous links are serial,
// and decoding was half their time.
type linkCursor struct {
	ctx   context.Context
	cust  int // the customer_id column
	ahead <-chan decodedGroup
	stop  context.CancelFunc
	rows  *rowset.Set
	i     int // the current row of rows
}

// decodedGroup is a row group the cursor's reader decoded, or its error.
type decodedGroup struct {
	rows *rowset.Set
	err  error
}

var linkTable = model.MustLoad("identity_link")

// newCursor reads the columns cols of table t, customer_id among them
// when customer is called, from files. Close it when done.
func newCursor(ctx context.Context, files []string, t *model.Table, cols ...string) *linkCursor {
	ctx, stop := context.WithCancel(ctx)
	ahead := make(chan decodedGroup, 1) // one group decoded ahead
	go func() {
		defer close(ahead)
		send := func(g decodedGroup) bool {
			select {
			case ahead <- g:
				return g.err == nil
			case <-ctx.Done():
				return false
			}
		}
		for _, f := range files {
			r, err := parquet.OpenColumns(f, t, cols...)
			if err != nil {
				send(decodedGroup{err: err})
				return
			}
			for g := range r.RowGroups() {
				rows := rowset.New(t)
				err := r.ReadRowGroup(ctx, g, rows)
				if !send(decodedGroup{rows, err}) {
					_ = r.Close()
					return
				}
			}
			_ = r.Close()
		}
	}()
	return &linkCursor{ctx: ctx, cust: col(t, "customer_id"), ahead: ahead, stop: stop}
}

// next moves to the next row; false at the end.
func (c *linkCursor) next() (bool, error) {
	if c.rows != nil && c.i+1 < c.rows.Len() {
		c.i++
		return true, nil
	}
	for g := range c.ahead {
		if g.err != nil {
			c.rows = nil
			return false, g.err
		}
		if g.rows.Len() > 0 {
			c.rows, c.i = g.rows, 0
			return true, nil
		}
	}
	c.rows = nil
	// A reader stopped by the context ends early, without an error of
	// its own: that is no end of the links.
	return false, c.ctx.Err()
}

var (
	linkSource = col(linkTable, "source")
	linkStream = col(linkTable, "stream")
	linkKey    = col(linkTable, "record_key")
)

// ref is the current link's record. Its strings share the row group's
// memory, which is never written again: they stay valid, and keep it
// alive, as long as they are kept.
func (c *linkCursor) ref() identity.RecordRef {
	return identity.RecordRef{Source: c.rows.String(c.i, linkSource), Stream: c.rows.String(c.i, linkStream), Key: c.rows.String(c.i, linkKey)}
}

// customer is the current row's customer id. It shares the row group's
// memory, as ref's strings do; identity clones the few it keeps.
func (c *linkCursor) customer() string { return c.rows.String(c.i, c.cust) }

// close stops the reader and waits for it to close its file. It may be
// called more than once.
func (c *linkCursor) close() {
	c.stop()
	for range c.ahead {
	}
}

// streamed is the previous identity links read as identity asks for
// them, in order, one row group at a time. A lookup out of order starts
// over from the first link: slow, but right. Errors reading the files
// end the lookups; Err reports them.
//
// desilo writes the links in identity's order, in which identity looks
// them up; other writers' links are read whole and sorted (about 100
// bytes a link), which the first lookup finds out. Most builds make no
// lookup at all (see identity's merge step), and then the links are not
// read.
type streamed struct {
	ctx       context.Context
	files     []string
	customers []string // the snapshot's customer table, for Each; nil: none
	n         int
	checked   bool      // the links' order is known
	held      *previous // the links, when not in order
	c         *linkCursor
	at        bool // c is on a link
	last      identity.RecordRef
	err       error
}

func (p *streamed) Len() int { return p.n }

// Err is the first error reading the links.
func (p *streamed) Err() error { return p.err }

// Close closes the file a lookup left open.
func (p *streamed) Close() error {
	if p.c != nil {
		p.c.close()
	}
	return nil
}

func (p *streamed) Lookup(r identity.RecordRef) string {
	if p.err != nil {
		return ""
	}
	if !p.checked {
		p.checked = true
		sorted, err := linksSorted(p.ctx, p.files)
		if err == nil && !sorted {
			p.held, err = holdLinks(p.ctx, p.files, p.n)
		}
		if err != nil {
			p.err = err
			return ""
		}
	}
	if p.held != nil {
		return p.held.Lookup(r)
	}
	if p.c == nil || identity.CompareRefs(r, p.last) < 0 {
		if p.c != nil {
			p.c.close()
		}
		p.c, p.at = newCursor(p.ctx, p.files, linkTable, "source", "stream", "record_key", "customer_id"), false
		if p.at, p.err = p.c.next(); p.err != nil {
			return ""
		}
	}
	p.last = r
	for p.at {
		switch c := identity.CompareRefs(r, p.c.ref()); {
		case c == 0:
			return p.c.customer()
		case c < 0:
			return ""
		}
		if p.at, p.err = p.c.next(); p.err != nil {
			return ""
		}
	}
	p.c.close()
	return ""
}

func (p *streamed) Each(fn func(string)) {
	if p.err != nil {
		return
	}
	c := newCursor(p.ctx, p.files, linkTable, "customer_id")
	if p.customers != nil {
		c = newCursor(p.ctx, p.customers, customerTable, "customer_id")
	}
	defer c.close()
	for {
		ok, err := c.next()
		if err != nil {
			p.err = err
			return
		}
		if !ok {
			return
		}
		fn(c.customer())
	}
}

// previous is the identity links of the current snapshot, in typed
// columns, ordered by (source, stream, record_key) for lookups. desilo
// writes them in that order; others' files are sorted here. It is not
// safe for concurrent use.
type previous struct {
	rows                   *rowset.Set
	src, stream, key, cust int
	order                  []int32 // nil when the rows are in order
	next                   int     // where the last Lookup ended
}

func (p *previous) ref(i int) identity.RecordRef {
	return identity.RecordRef{Source: p.rows.String(i, p.src), Stream: p.rows.String(i, p.stream), Key: p.rows.String(i, p.key)}
}

func (p *previous) sort() {
	n := p.rows.Len()
	for i := 1; i < n; i++ {
		if identity.CompareRefs(p.ref(i-1), p.ref(i)) > 0 {
			p.order = make([]int32, n)
			for j := range p.order {
				p.order[j] = int32(j)
			}
			slices.SortStableFunc(p.order, func(a, b int32) int { return identity.CompareRefs(p.ref(int(a)), p.ref(int(b))) })
			return
		}
	}
}

func (p *previous) at(k int) int {
	if p.order != nil {
		return int(p.order[k])
	}
	return k
}

func (p *previous) Len() int { return p.rows.Len() }

// Lookup finds r by binary search, or, as identity asks in record order,
// usually by stepping on from where the previous lookup ended.
func (p *previous) Lookup(r identity.RecordRef) string {
	n := p.rows.Len()
	k := p.next
	for step := 0; k < n && step < 4; step, k = step+1, k+1 {
		switch c := identity.CompareRefs(r, p.ref(p.at(k))); {
		case c == 0:
			p.next = k + 1
			return p.rows.String(p.at(k), p.cust)
		case c < 0 && (k == 0 || identity.CompareRefs(r, p.ref(p.at(k-1))) > 0):
			p.next = k
			return "" // between k-1 and k: not there
		case c < 0:
			k = n // before the cursor: search
		}
	}
	k, ok := sort.Find(n, func(k int) int { return identity.CompareRefs(r, p.ref(p.at(k))) })
	p.next = k
	if !ok {
		return ""
	}
	p.next = k + 1
	return p.rows.String(p.at(k), p.cust)
}

func (p *previous) Each(fn func(string)) {
	for i := range p.rows.Len() {
		fn(p.rows.String(i, p.cust))
	}
}
