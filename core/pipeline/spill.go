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

	"github.com/desilo/desilo/core/rowset"
)

// The build does not hold the staged rows while it runs: identity needs
// only their keys, and profiles need one customer's rows at a time. The
// rows go to a scratch file under the state dir as they are read (spill),
// are scattered once identity has placed them into one file per group of
// whole customers (scatter), and a group's rows are read back when its
// customers are built (load). Each file is written and read in order;
// the process holds buffers and one group, and the rest is the page
// cache's, which the kernel can drop under pressure.

// groupRecords is about how many records a group holds, unless a single
// customer has more. A variable for tests.
var groupRecords = 1 << 17

// maxGroups bounds the files the scatter keeps open.
const maxGroups = 512

// spill is the build's scratch directory and its row files.
type spill struct {
	dir  string
	rows string // every staged row in b.records order
	f    *os.File
	w    *bufio.Writer
	buf  []byte
}

func newSpill(dir string) (*spill, error) {
	s := &spill{dir: dir, rows: filepath.Join(dir, "rows")}
	f, err := os.Create(s.rows)
	if err != nil {
		return nil, err
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 1<<20)
	return s, nil
}

// write appends every row of set.
func (s *spill) write(set *rowset.Set) error {
	for i := range set.Len() {
		s.buf = set.AppendEncoded(s.buf[:0], i)
		if err := writeRow(s.w, s.buf); err != nil {
			return fmt.Errorf("spilling staged rows: %w", err)
		}
	}
	return nil
}

// finish ends the writing of the rows file.
func (s *spill) finish() error {
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spilling staged rows: %w", err)
	}
	return nil
}

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
	for _, j := range g.jobs {
		j.sets = nil
	}
}

// remove deletes the scratch directory.
func (s *spill) remove() {
	if s.f != nil {
		_ = s.f.Close()
	}
	_ = os.RemoveAll(s.dir)
}

// writeRow writes one row: its uvarint length, then its bytes.
func writeRow(w *bufio.Writer, row []byte) error {
	var n [binary.MaxVarintLen64]byte
	if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(len(row)))]); err != nil {
		return err
	}
	_, err := w.Write(row)
	return err
}

// readRow reads one row written by writeRow into buf.
func readRow(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return buf, err
	}
	if n > 1<<31 {
		return buf, fmt.Errorf("a spilled row of %d bytes", n)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf, noEOF(err)
	}
	return buf, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// group is a run of profile jobs whose records are built together, the
// file that holds their rows and, while loaded, the rows.
type group struct {
	jobs  []*profileJob
	count []int // per staged set: how many of the group's records it holds
	file  string
	sets  []*rowset.Set // per staged set, when loaded: the group's rows
}

// groups cuts the jobs, which are in customer order, into groups of about
// groupRecords records and scatters the spilled rows to one file per
// group. Each row in a group file is preceded by its record's index.
func (b *builder) groups(ctx context.Context, jobs []*profileJob) ([]*group, error) {
	per := max(groupRecords, len(b.records)/maxGroups+1)
	var gs []*group
	n := 0
	for _, j := range jobs {
		if len(gs) == 0 || n+len(j.order) > per {
			gs = append(gs, &group{count: make([]int, len(b.sets)),
				file: filepath.Join(b.spill.dir, fmt.Sprintf("group-%04d", len(gs)))})
			n = 0
		}
		g := gs[len(gs)-1]
		g.jobs = append(g.jobs, j)
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

// scatter copies each spilled row to its group's file, and removes the
// rows file.
func (b *builder) scatter(ctx context.Context, gs []*group, of []int32) (err error) {
	in, err := os.Open(b.spill.rows)
	if err != nil {
		return err
	}
	defer in.Close()
	r := bufio.NewReaderSize(in, 1<<20)
	files := make([]*os.File, len(gs))
	out := make([]*bufio.Writer, len(gs))
	defer func() {
		for k, f := range files {
			if f == nil {
				continue
			}
			if ferr := out[k].Flush(); err == nil {
				err = ferr
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			err = fmt.Errorf("scattering spilled rows: %w", err)
		}
	}()
	for k, g := range gs {
		if files[k], err = os.Create(g.file); err != nil {
			return err
		}
		out[k] = bufio.NewWriterSize(files[k], 64<<10)
	}
	var buf []byte
	var n [binary.MaxVarintLen64]byte
	for i := range b.records {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if buf, err = readRow(r, buf); err != nil {
			return noEOF(err)
		}
		w := out[of[i]]
		if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(i))]); err != nil {
			return err
		}
		if err := writeRow(w, buf); err != nil {
			return err
		}
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("the rows file holds more than %d rows", len(b.records))
	}
	return os.Remove(b.spill.rows)
}

// load reads the group's rows of the entities in only (all when nil)
// into fresh sets, g.sets, and points their records there; the other
// sets are nil. Groups may load while others are built: each record
// belongs to one group.
func (b *builder) load(ctx context.Context, g *group, only map[string]bool) error {
	g.sets = make([]*rowset.Set, len(b.sets))
	for s := range b.sets {
		if only == nil || only[b.sets[s].entity] {
			g.sets[s] = rowset.New(b.sets[s].table)
			g.sets[s].Reserve(g.count[s])
		}
	}
	for _, j := range g.jobs {
		j.sets = g.sets
	}
	f, err := os.Open(g.file)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var buf []byte
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		i, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return nil
		}
		if err != nil || i >= uint64(len(b.records)) {
			return fmt.Errorf("spilled rows %s: a damaged row index (%v)", g.file, err)
		}
		if buf, err = readRow(r, buf); err != nil {
			return fmt.Errorf("spilled rows %s: %w", g.file, noEOF(err))
		}
		rec := &b.records[i]
		set := g.sets[rec.set]
		if set == nil {
			continue
		}
		rec.row = int32(set.Len())
		if _, err := set.DecodeRow(buf); err != nil {
			return fmt.Errorf("spilled rows %s: %w", g.file, err)
		}
	}
}
