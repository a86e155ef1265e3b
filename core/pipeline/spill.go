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
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		return nil, err
	}
	if n > 1<<31 {
		return nil, fmt.Errorf("a spilled row of %d bytes", n)
	}
	if uint64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return nil, noEOF(err)
	}
	return r.buf, nil
}

func (r *rowReader) close() { _ = r.f.Close() }

// loadAhead loads the groups, in order, one ahead of the caller, which
// receives each group once loaded: while one group is built the next is
// read. Cancel ctx to stop it early; the channel closes either way.
func (b *builder) loadAhead(ctx context.Context, gs []*group, only map[string]bool) <-chan loaded {
	out := make(chan loaded) // unbuffered: at most two groups in memory
	go func() {
		defer close(out)
		for _, g := range gs {
			err := b.load(ctx, g, only)
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
	g.sets = nil
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
// files that hold their rows and, while loaded, the rows.
type group struct {
	jobs  []*profileJob
	count []int // per staged set: how many of the group's records it holds
	files []groupFile
	sets  []*rowset.Set // per staged set, when loaded: the group's rows
}

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

// groups cuts the jobs, which are in customer order, into groups of about
// groupRecords records and scatters the spilled rows to the groups'
// files. Each row in a group file is preceded by its record's index.
func (b *builder) groups(ctx context.Context, jobs []*profileJob) ([]*group, error) {
	per := max(groupRecords, len(b.records)/maxGroups+1)
	var gs []*group
	n := 0
	for _, j := range jobs {
		if len(gs) == 0 || n+len(j.order) > per {
			gs = append(gs, &group{count: make([]int, len(b.sets))})
			n = 0
		}
		g := gs[len(gs)-1]
		g.jobs = append(g.jobs, j)
		j.group = g
		n += len(j.order)
	}
	of := make([]int32, len(b.records)) // each record's group
	for k, g := range gs {
		for _, j := range g.jobs {
			for _, i := range j.order {
				of[i] = int32(k)
				g.count[b.records[i].set]++
			}
		}
	}
	return gs, b.scatter(ctx, gs, of)
}

// scatter copies each spilled row to its group's files and removes the
// spilled files. The files are shared out to a worker per core, largest
// first; each worker writes its own file per group.
func (b *builder) scatter(ctx context.Context, gs []*group, of []int32) error {
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
				if err := b.scatterFile(ctx, f, of, paths[w], out, w); err != nil {
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
func (b *builder) scatterFile(ctx context.Context, f spilled, of []int32, paths []string, out []*rowWriter, w int) error {
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
		part := partOfSet[b.records[i].set]
		o := of[i]*parts + part
		if out[o] == nil {
			paths[o] = filepath.Join(b.spill.dir, fmt.Sprintf("group-%04d-%d-%d", of[i], part, w))
			if out[o], err = createRows(paths[o], 64<<10); err != nil {
				return err
			}
		}
		if err := out[o].uvarint(uint64(i)); err != nil {
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
// into fresh sets, g.sets, and points their records there; the other
// sets are nil. Groups may load while others are built: each record
// belongs to one group.
func (b *builder) load(ctx context.Context, g *group, only map[string]bool) error {
	g.sets = make([]*rowset.Set, len(b.sets))
	var need [parts]bool
	for s := range b.sets {
		if e := b.sets[s].entity; only == nil || only[e] {
			g.sets[s] = rowset.New(b.sets[s].table)
			g.sets[s].Reserve(g.count[s])
			need[partOf(e)] = true
		}
	}
	for _, f := range g.files {
		if !need[f.part] {
			continue
		}
		if err := b.loadFile(ctx, f.path, g.sets); err != nil {
			return fmt.Errorf("spilled rows %s: %w", f.path, err)
		}
	}
	return nil
}

// loadFile reads one of a group's files into sets.
func (b *builder) loadFile(ctx context.Context, path string, sets []*rowset.Set) error {
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
		i, err := r.uvarint()
		if err == io.EOF {
			return nil
		}
		if err != nil || i >= uint64(len(b.records)) {
			return fmt.Errorf("a damaged row index (%v)", err)
		}
		buf, err := r.row()
		if err != nil {
			return noEOF(err)
		}
		rec := &b.records[i]
		set := sets[rec.set]
		if set == nil {
			continue
		}
		rec.row = int32(set.Len())
		if _, err := set.DecodeRow(buf); err != nil {
			return err
		}
	}
}
