package pipeline

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"

	"github.com/desilo/desilo/core/rowset"
)

// The build does not hold the staged rows while it runs: identity needs
// only their keys, and profiles need one customer's rows at a time. The
// rows go to scratch files under the state dir as they are read (spill,
// a file per row group read), are scattered once identity has placed them
// into files per group of whole customers (scatter, on all cores), and a
// group's rows are read back when its customers are built (load). Each
// file is written and read in order; the process holds buffers and two
// groups, and the rest is the page cache's, which the kernel can drop
// under pressure.

// groupRecords is about how many records a group holds, unless a single
// customer has more. A variable for tests.
var groupRecords = 1 << 16

// maxGroups bounds the files the scatter keeps open: a worker writes a
// file per group and part.
const maxGroups = 256

// spill is the build's scratch directory and the staged rows' files.
type spill struct {
	dir   string
	files []spilled
	buf   []byte
}

// spilled is a file of n staged rows, records first to first+n-1.
type spilled struct {
	path     string
	first, n int
}

// write writes a chunk of staged rows, records first on, to a file.
func (s *spill) write(rows *rowset.Set, first int) (err error) {
	f := spilled{path: filepath.Join(s.dir, fmt.Sprintf("rows-%05d", len(s.files))), first: first, n: rows.Len()}
	s.files = append(s.files, f)
	w, err := createRows(f.path, 1<<20)
	if err != nil {
		return fmt.Errorf("spilling staged rows: %w", err)
	}
	defer func() {
		if cerr := w.close(); err == nil && cerr != nil {
			err = fmt.Errorf("spilling staged rows: %w", cerr)
		}
	}()
	for i := range rows.Len() {
		s.buf = rows.AppendEncoded(s.buf[:0], i)
		if err := w.row(s.buf); err != nil {
			return fmt.Errorf("spilling staged rows: %w", err)
		}
	}
	return nil
}

// A row file is a stream of rows, each a uvarint length and its bytes,
// compressed with S2 (Snappy's faster relative): the encoded rows are
// mostly text and shrink about threefold, so the scratch files take about
// what the staging does on disk, at no measurable cost in time (the
// compression's CPU about equals the kernel's copying it saves).

// rowWriter writes a row file.
type rowWriter struct {
	f *os.File
	z *s2.Writer
	w *bufio.Writer
	n [binary.MaxVarintLen64]byte
}

// createRows creates a row file, compressed in blocks of block bytes:
// the writer's buffers are about twice that.
func createRows(path string, block int) (*rowWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	z := s2.NewWriter(f, s2.WriterConcurrency(1), s2.WriterBlockSize(block))
	return &rowWriter{f: f, z: z, w: bufio.NewWriterSize(z, 16<<10)}, nil
}

// row writes one row.
func (w *rowWriter) row(b []byte) error {
	if _, err := w.w.Write(w.n[:binary.PutUvarint(w.n[:], uint64(len(b)))]); err != nil {
		return err
	}
	_, err := w.w.Write(b)
	return err
}

// uvarint writes a number, as a prefix of the next row.
func (w *rowWriter) uvarint(x uint64) error {
	_, err := w.w.Write(w.n[:binary.PutUvarint(w.n[:], x)])
	return err
}

func (w *rowWriter) close() error {
	err := w.w.Flush()
	if zerr := w.z.Close(); err == nil {
		err = zerr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rowReader reads a row file.
type rowReader struct {
	f   *os.File
	r   *bufio.Reader
	buf []byte
}

func openRows(path string) (*rowReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &rowReader{f: f, r: bufio.NewReaderSize(s2.NewReader(f), 64<<10)}, nil
}

// uvarint reads a number; io.EOF at the end of the file.
func (r *rowReader) uvarint() (uint64, error) {
	return binary.ReadUvarint(r.r)
}

// row reads one row; it is valid until the next call.
func (r *rowReader) row() ([]byte, error) {
	var err error
	r.buf, err = r.appendRow(r.buf[:0])
	return r.buf, err
}

// appendRow reads one row and appends its bytes to dst.
func (r *rowReader) appendRow(dst []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		return dst, err
	}
	if n > 1<<31 {
		return dst, fmt.Errorf("a spilled row of %d bytes", n)
	}
	start := len(dst)
	dst = slices.Grow(dst, int(n))[:start+int(n)]
	if _, err := io.ReadFull(r.r, dst[start:]); err != nil {
		return dst[:start], noEOF(err)
	}
	return dst, nil
}

func (r *rowReader) close() { _ = r.f.Close() }

// loadAhead loads the groups, in order, one ahead of the caller, which
// receives each group once loaded: while one group is built the next is
// read. Cancel ctx to stop it early; the channel closes either way.
func (b *builder) loadAhead(ctx context.Context, gs []*group, only map[string]bool) <-chan loaded {
	out := make(chan loaded) // unbuffered: at most two groups in memory
	go func() {
		defer close(out)
		var buf loadBuf
		for _, g := range gs {
			err := b.load(ctx, g, only, &buf)
			select {
			case out <- loaded{g, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// loaded is a group loadAhead loaded, or the error loading it.
type loaded struct {
	g   *group
	err error
}

// release drops a built group's rows.
func (g *group) release() {
	g.sets, g.rows = nil, nil
}

// remove deletes the scratch directory.
func (s *spill) remove() { _ = os.RemoveAll(s.dir) }

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// group is a run of profile jobs whose records are built together, the
// files that hold their rows and, while loaded, the rows. A row in a
// group file is preceded by its record's position in the group's order
// and its staged set.
type group struct {
	jobs []*profileJob
	// order is the group's records in customer order: the jobs' orders
	// one after the other. A group file gives each row's position in it.
	order []int32
	count []int // per staged set: how many of the group's records it holds
	files []groupFile
	// While loaded: per staged set, the group's rows (nil for a set not
	// loaded), and where each record's row is, by position in order.
	sets []*rowset.Set
	rows []rowRef
}

// rowRef is where a loaded record's row is: row row of the group's set
// set; set is -1 when the record's set is not loaded.
type rowRef struct{ set, row int32 }

// A group's rows are kept in two parts, each in files of its own: the
// rows RFM needs (rfmEntities), and the rest. The profiles' first pass,
// which needs only the first part, reads about a quarter of the rows.
const parts = 2

// partOf is the part that holds an entity's rows.
func partOf(entity string) int {
	if rfmEntities[entity] {
		return 0
	}
	return 1
}

// groupFile is one of a group's files and the part its rows belong to.
type groupFile struct {
	path string
	part int
}

// groups cuts the jobs into groups of about groupRecords records and
// scatters the spilled rows to the groups' files. The jobs are cut from
// order, all records in customer order, one after the other.
func (b *builder) groups(ctx context.Context, jobs []*profileJob, order []int32) ([]*group, error) {
	per := max(groupRecords, len(b.records)/maxGroups+1)
	var gs []*group
	var firsts []int // where each group starts in order
	n, at := 0, 0
	for _, j := range jobs {
		if len(gs) == 0 || n+len(j.order) > per {
			gs = append(gs, &group{count: make([]int, len(b.sets))})
			firsts = append(firsts, at)
			n = 0
		}
		g := gs[len(gs)-1]
		g.jobs = append(g.jobs, j)
		j.group, j.first = g, n
		n += len(j.order)
		at += len(j.order)
	}
	if at != len(order) {
		return nil, fmt.Errorf("the jobs hold %d records, the order %d", at, len(order))
	}
	firsts = append(firsts, at)
	pos := make([]int32, len(b.records)) // each record's position in order
	for k, g := range gs {
		g.order = order[firsts[k]:firsts[k+1]]
		for p, i := range g.order {
			pos[i] = int32(firsts[k] + p)
			g.count[b.records[i].set]++
		}
	}
	return gs, b.scatter(ctx, gs, pos, firsts)
}

// scatter copies each spilled row to its group's files and removes the
// spilled files. pos holds each record's position in the records'
// customer order, firsts where each group starts in it (and its end).
// The files are shared out to a worker per core, largest first; each
// worker writes its own file per group.
func (b *builder) scatter(ctx context.Context, gs []*group, pos []int32, firsts []int) error {
	files := slices.Clone(b.spill.files)
	slices.SortStableFunc(files, func(x, y spilled) int { return y.n - x.n })
	next := make(chan spilled, len(files))
	for _, f := range files {
		next <- f
	}
	close(next)
	workers := max(1, min(runtime.GOMAXPROCS(0), len(files)))
	// Per worker, per group and part (at group*parts+part): its file, ""
	// when none.
	paths := make([][]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		paths[w] = make([]string, len(gs)*parts)
		wg.Go(func() {
			out := make([]*rowWriter, len(gs)*parts)
			for f := range next {
				if err := b.scatterFile(ctx, f, pos, firsts, paths[w], out, w); err != nil {
					errs[w] = err
					break
				}
			}
			for _, o := range out {
				if o == nil {
					continue
				}
				if err := o.close(); err != nil && errs[w] == nil {
					errs[w] = err
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("scattering spilled rows: %w", err)
	}
	for k, g := range gs {
		for part := range parts {
			for w := range workers {
				if p := paths[w][k*parts+part]; p != "" {
					g.files = append(g.files, groupFile{p, part})
				}
			}
		}
	}
	return nil
}

// scatterFile copies the rows of spilled file f to worker w's group files
// (out, created as needed, their paths in paths; both indexed by
// group*parts+part) and removes f.
func (b *builder) scatterFile(ctx context.Context, f spilled, pos []int32, firsts []int, paths []string, out []*rowWriter, w int) error {
	in, err := openRows(f.path)
	if err != nil {
		return err
	}
	defer in.close()
	partOfSet := make([]int32, len(b.sets))
	for s := range b.sets {
		partOfSet[s] = int32(partOf(b.sets[s].entity))
	}
	for i := f.first; i < f.first+f.n; i++ {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := in.row()
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, noEOF(err))
		}
		p := int(pos[i])
		g, _ := slices.BinarySearch(firsts, p+1) // the first group starting after p
		g--
		set := b.records[i].set
		part := partOfSet[set]
		o := int32(g)*parts + part
		if out[o] == nil {
			paths[o] = filepath.Join(b.spill.dir, fmt.Sprintf("group-%04d-%d-%d", g, part, w))
			if out[o], err = createRows(paths[o], 64<<10); err != nil {
				return err
			}
		}
		if err := out[o].uvarint(uint64(p - firsts[g])); err != nil {
			return err
		}
		if err := out[o].uvarint(uint64(set)); err != nil {
			return err
		}
		if err := out[o].row(row); err != nil {
			return err
		}
	}
	if _, err := in.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("%s holds more than its %d rows", f.path, f.n)
	}
	return os.Remove(f.path)
}

// load reads the group's rows of the entities in only (all when nil)
// into fresh sets, g.sets, and notes where each record's row is, g.rows;
// the other sets are nil. The rows are added in the group's customer order, so
// that the profiles, which read them in that order, read each column
// front to back instead of all over it. buf is the loader's, reused from
// group to group. Groups may load while others are built: each record
// belongs to one group.
func (b *builder) load(ctx context.Context, g *group, only map[string]bool, buf *loadBuf) error {
	g.sets = make([]*rowset.Set, len(b.sets))
	var need [parts]bool
	for s := range b.sets {
		if e := b.sets[s].entity; only == nil || only[e] {
			g.sets[s] = rowset.New(b.sets[s].table)
			g.sets[s].Reserve(g.count[s])
			need[partOf(e)] = true
		}
	}
	buf.raw = buf.raw[:0]
	buf.at = slices.Grow(buf.at[:0], len(g.order))[:len(g.order)]
	clear(buf.at)
	for _, f := range g.files {
		if !need[f.part] {
			continue
		}
		if err := buf.readFile(ctx, f.path, len(b.sets)); err != nil {
			return fmt.Errorf("spilled rows %s: %w", f.path, err)
		}
	}
	g.rows = make([]rowRef, len(g.order))
	for p, at := range buf.at {
		if p%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if at.n == 0 {
			g.rows[p].set = -1
			continue
		}
		set := g.sets[at.set]
		if set == nil {
			return fmt.Errorf("spilled rows: a group file holds a row of %s, which this pass does not read", b.sets[at.set].entity)
		}
		g.rows[p] = rowRef{at.set, int32(set.Len())}
		if _, err := set.DecodeRow(buf.raw[at.off : at.off+at.n]); err != nil {
			return fmt.Errorf("spilled rows: %w", err)
		}
	}
	for s, set := range g.sets {
		if set != nil && set.Len() != g.count[s] {
			return fmt.Errorf("spilled rows: the group's files hold %d rows of staged set %d, want %d", set.Len(), s, g.count[s])
		}
	}
	return nil
}

// loadBuf holds a group's encoded rows while it loads: raw holds the
// rows, at where each is and its staged set, by its position in the
// group's order (n is 0 for a position no file gave).
type loadBuf struct {
	raw []byte
	at  []span
}

type span struct {
	off, n int
	set    int32
}

// readFile reads one of a group's files into the buffer; sets is the
// number of staged sets.
func (buf *loadBuf) readFile(ctx context.Context, path string, sets int) error {
	r, err := openRows(path)
	if err != nil {
		return err
	}
	defer r.close()
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p, err := r.uvarint()
		if err == io.EOF {
			return nil
		}
		if err != nil || p >= uint64(len(buf.at)) || buf.at[p].n != 0 {
			return fmt.Errorf("a damaged row position (%v)", err)
		}
		set, err := r.uvarint()
		if err != nil || set >= uint64(sets) {
			return fmt.Errorf("a damaged staged set (%v)", noEOF(err))
		}
		off := len(buf.raw)
		if buf.raw, err = r.appendRow(buf.raw); err != nil {
			return noEOF(err)
		}
		if buf.at[p] = (span{off, len(buf.raw) - off, int32(set)}); buf.at[p].n == 0 {
			return errors.New("an empty row")
		}
	}
}
