package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/mapping"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/stage"
	"github.com/desilo/desilo/plugins/connector"
)

// ErrSourcesFailed says at least one source failed; the others' data is
// staged and their states advanced.
var ErrSourcesFailed = errors.New("sources failed")

// SourcesError is Extract's error when sources failed: it is
// ErrSourcesFailed, and keeps each failed source's error, so that a caller
// can tell why (a connector not found is a config problem). It does not
// unwrap to them: one source's failure does not make the run's error that
// failure.
type SourcesError struct {
	Names []string
	Errs  []error // Errs[i] is why Names[i] failed
}

func (e *SourcesError) Error() string        { return fmt.Sprintf("%v: %v", ErrSourcesFailed, e.Names) }
func (e *SourcesError) Is(target error) bool { return target == ErrSourcesFailed }

// Extract reads every selected source into staging, several at once. A
// source that fails keeps its old state; the others go on.
func Extract(ctx context.Context, store *stage.Store, opts Options) ([]SourceSummary, error) {
	opts.defaults()
	sources, err := selected(opts.Config, opts.Sources)
	if err != nil {
		return nil, err
	}
	out := make([]SourceSummary, len(sources))
	errs := make([]error, len(sources))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = extractSource(ctx, store, src, &opts)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	failed := &SourcesError{}
	for i, s := range out {
		if errs[i] != nil {
			failed.Names = append(failed.Names, s.Name)
			failed.Errs = append(failed.Errs, errs[i])
		}
	}
	if len(failed.Names) > 0 {
		return out, failed
	}
	return out, nil
}

func selected(cfg *config.Config, names []string) ([]*config.Source, error) {
	var out []*config.Source
	for i := range cfg.Sources {
		if len(names) == 0 || slices.Contains(names, cfg.Sources[i].Name) {
			out = append(out, &cfg.Sources[i])
		}
	}
	for _, n := range names {
		if _, ok := cfg.Source(n); !ok {
			return nil, fmt.Errorf("no source %q in %s", n, cfg.File)
		}
	}
	return out, nil
}

// extractSource runs one source; its error ends up in the summary too.
func extractSource(ctx context.Context, store *stage.Store, src *config.Source, opts *Options) (SourceSummary, error) {
	start := time.Now()
	sum := SourceSummary{Name: src.Name, Connector: src.Connector}
	opts.Observer.SourceStarted(src.Name)
	err := runBounded(ctx, store, src, opts, &sum)
	if err == nil {
		compactSource(ctx, store, src.Name, opts.Logger)
	}
	sum.Duration = Duration(time.Since(start))
	if err != nil {
		sum.Error = err.Error()
		opts.Logger.Error("source failed", "source", src.Name, "error", err)
	} else {
		opts.Logger.Info("source extracted", "source", src.Name, "records", sum.Records, "rejects", sum.Rejects, "duration", sum.Duration.String())
	}
	opts.Observer.SourceDone(src.Name, sum)
	return sum, err
}

// compactSource merges the segments of each of the source's streams
// that has gathered more than stage.Options.CompactSegments, so that
// staging keeps about one version of each record and builds read no more
// than that. The records are durable already: a failed compaction leaves
// the segments as they were, for the next sync to try again.
func compactSource(ctx context.Context, store *stage.Store, source string, log *slog.Logger) {
	for _, ref := range store.Streams() {
		if ref.Source != source {
			continue
		}
		if _, err := store.Compact(ctx, source, ref.Stream); err != nil && ctx.Err() == nil {
			log.Warn("staging: compaction failed; the next sync tries again", "source", source, "stream", ref.Stream, "error", err)
		}
	}
}

// runBounded runs a source within run.source_timeout, when one is set.
// The checkpoints committed before the timeout stay, so the next run
// resumes from there.
func runBounded(ctx context.Context, store *stage.Store, src *config.Source, opts *Options, sum *SourceSummary) error {
	limit := opts.Config.Run.SourceTimeout
	if limit <= 0 {
		return runSource(ctx, store, src, opts, sum)
	}
	timedOut := fmt.Errorf("source %s took longer than run.source_timeout (%s) and was stopped; the next run resumes from its last checkpoint", src.Name, limit)
	sctx, cancel := context.WithTimeoutCause(ctx, limit, timedOut)
	defer cancel()
	err := runSource(sctx, store, src, opts, sum)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(sctx), timedOut) {
		return timedOut
	}
	return err
}

func runSource(ctx context.Context, store *stage.Store, src *config.Source, opts *Options, sum *SourceSummary) error {
	conn, err := opts.Launcher.Launch(ctx, src)
	if err != nil {
		return err
	}
	defer conn.Close()
	streams, err := conn.Discover(ctx, src.Config)
	if err != nil {
		return err
	}
	plans, err := plan(opts.Config, src, streams, sum)
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		return opts.Config.ErrorAt(src.Pointer(), fmt.Sprintf("source %s: no stream has a mapping, so there is nothing to extract: connector %s has no default mapping for %s; add `mapping:` for them",
			src.Name, src.Connector, strings.Join(sum.Unmapped, ", ")))
	}
	x, err := store.Begin(ctx, src.Name, stage.BeginOptions{FullRefresh: opts.FullRefresh})
	if err != nil {
		return err
	}
	state := x.StartState() // the saved state; nil for a full refresh
	em := newStager(src.Name, plans, x, opts)
	names := make([]string, 0, len(plans))
	for n := range plans {
		names = append(names, n)
	}
	slices.Sort(names)
	err = conn.Read(ctx, connector.ReadRequest{Config: src.Config, Streams: names, State: state}, em)
	em.report(sum)
	if err == nil {
		err = em.checkRejectRatio(opts.Config.Run.MaxRejectRatio)
	}
	if err != nil {
		x.Abort()
		return err
	}
	if em.checkpoints.Load() == 0 && em.records.Load()+em.deleted.Load() > 0 {
		opts.Logger.Warn("the connector sent no checkpoint: the next sync reads every record of this source again (a connector's Read should checkpoint its position)",
			"source", src.Name, "connector", src.Connector)
	}
	return x.Finish()
}

// CheckStreams returns what extract would refuse in the source's streams
// and mappings, given the streams its connector discovered: a stream the
// connector does not offer, a mapping that does not fit a stream.
func CheckStreams(cfg *config.Config, src *config.Source, streams []connector.Stream) error {
	_, err := plan(cfg, src, streams, &SourceSummary{})
	return err
}

// plan compiles the mapping of every stream that has one: the user's from
// desilo.yaml, else the connector's default.
func plan(cfg *config.Config, src *config.Source, streams []connector.Stream, sum *SourceSummary) (map[string]*mapping.Plan, error) {
	byName := map[string]connector.Stream{}
	var names []string
	for _, s := range streams {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	for _, want := range src.Streams {
		if _, ok := byName[want]; !ok {
			return nil, cfg.ErrorAt(src.Pointer()+"/streams", fmt.Sprintf("connector %s offers no stream %q%s", src.Connector, want, config.Suggest(want, names)))
		}
	}
	for name := range src.Mapping {
		if _, ok := byName[name]; !ok {
			return nil, cfg.ErrorAt(src.Pointer()+"/mapping/"+name, fmt.Sprintf("connector %s offers no stream %q%s", src.Connector, name, config.Suggest(name, names)))
		}
	}
	plans := map[string]*mapping.Plan{}
	for _, s := range streams {
		if len(src.Streams) > 0 && !slices.Contains(src.Streams, s.Name) {
			continue
		}
		var override *connector.Mapping
		if m, ok := src.Mapping[s.Name]; ok {
			override = &m
		}
		if override == nil && s.Mapping == nil {
			sum.Unmapped = append(sum.Unmapped, s.Name)
			continue
		}
		p, err := mapping.Default(s, override)
		if err != nil {
			if override != nil {
				return nil, MappingErrors(cfg, src, s.Name, err)
			}
			return nil, fmt.Errorf("source %s: the default mapping of connector %s, stream %s: %w", src.Name, src.Connector, s.Name, err)
		}
		plans[s.Name] = p
	}
	return plans, nil
}

// MappingErrors places each problem of the source's mapping of stream
// (from mapping.Compile) at its field's line in the config file.
func MappingErrors(cfg *config.Config, src *config.Source, stream string, err error) config.Errors {
	leaves := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		leaves = j.Unwrap()
	}
	var out config.Errors
	for _, e := range leaves {
		ptr := src.Pointer() + "/mapping/" + stream
		var fe *mapping.FieldError
		if errors.As(e, &fe) && fe.Field != "" {
			ptr += "/fields/" + fe.Field
		}
		out = append(out, cfg.ErrorAt(ptr, e.Error()))
	}
	return out
}

// stager is the Emitter a source's records arrive at: it maps them and
// writes them to the staging session. Read calls it from one goroutine.
type stager struct {
	source string
	plans  map[string]*mapping.Plan
	rows   map[string][]any // a reusable row per stream
	x      *stage.Extract
	opts   *Options

	rejectRow []any
	rejects   *model.Table

	counts           map[string]*StreamCount
	firstReject      map[string]string // by stream: where and why, for the reject ratio's error
	records, deleted atomic.Int64
	rejected         atomic.Int64
	checkpoints      atomic.Int64 // received, passed on or not
}

func newStager(source string, plans map[string]*mapping.Plan, x *stage.Extract, opts *Options) *stager {
	s := &stager{
		source: source, plans: plans, x: x, opts: opts,
		rows:        map[string][]any{},
		counts:      map[string]*StreamCount{},
		firstReject: map[string]string{},
		rejects:     model.MustLoad("reject"),
	}
	for name, p := range plans {
		s.rows[name] = make([]any, len(p.Table().Columns))
		s.counts[name] = &StreamCount{Stream: name, Entity: p.Entity()}
	}
	s.rejectRow = make([]any, len(s.rejects.Columns))
	return s
}

func (s *stager) Emit(ctx context.Context, r connector.Record) error {
	p, ok := s.plans[r.Stream]
	if !ok {
		return fmt.Errorf("source %s: the connector sent a record of stream %q, which was not asked for (asked for: %s): a connector's Read emits only the streams of ReadRequest.Streams, which are streams its Discover lists",
			s.source, r.Stream, strings.Join(slices.Sorted(maps.Keys(s.plans)), ", "))
	}
	row := s.rows[r.Stream]
	clear(row)
	c := s.counts[r.Stream]
	if err := p.Map(s.source, r, row); err != nil {
		var rej *mapping.RejectError
		if !errors.As(err, &rej) {
			return err
		}
		return s.reject(r.Stream, rej.Key, "", rej.Reason, r.Data)
	}
	if r.Deleted {
		fillRequired(p.Table(), row)
	}
	if err := s.x.Write(r.Stream, p.Table(), row, r.Deleted); err != nil {
		return err
	}
	c.Records++
	if r.Deleted {
		s.deleted.Add(1)
	}
	s.progress(s.records.Add(1))
	return nil
}

func (s *stager) Reject(ctx context.Context, r connector.Reject) error {
	return s.reject(r.Stream, "", r.Location, r.Reason, r.Raw)
}

// fillRequired gives a tombstone's required columns a zero value: a
// deleted record carries only its key, but its row must still be a valid
// row of the table.
func fillRequired(t *model.Table, row []any) {
	for i, c := range t.Columns {
		if !c.Required || row[i] != nil {
			continue
		}
		switch {
		case c.List:
			row[i] = []string{}
		case c.Type == model.String:
			row[i] = ""
		case c.Type == model.Integer:
			row[i] = int64(0)
		case c.Type == model.Number:
			row[i] = float64(0)
		case c.Type == model.Boolean:
			row[i] = false
		default:
			row[i] = time.Unix(0, 0).UTC()
		}
	}
}

// maxRawBytes bounds the raw payload kept with a reject.
const maxRawBytes = 64 << 10

func (s *stager) reject(stream, key, location, reason string, raw []byte) error {
	if c, ok := s.counts[stream]; ok {
		c.Rejects++
	}
	s.opts.Logger.Debug("record rejected", "source", s.source, "stream", stream, "record_key", key, "location", location, "reason", reason)
	s.rejected.Add(1)
	if _, ok := s.firstReject[stream]; !ok {
		where := location
		if key != "" {
			where = fmt.Sprintf("record %q", key)
		}
		if where != "" {
			where += ": "
		}
		s.firstReject[stream] = where + reason
	}
	if len(raw) > maxRawBytes {
		raw = raw[:maxRawBytes]
	}
	row := s.rejectRow
	clear(row)
	set := func(col string, v any) {
		if i, ok := s.rejects.Index(col); ok && v != "" {
			row[i] = v
		}
	}
	set("source", s.source)
	set("stream", stream)
	set("record_key", key)
	set("location", location)
	set("reason", reason)
	set("raw", string(raw))
	set("run_id", s.opts.RunID)
	set("rejected_at", s.opts.Now().UTC())
	return s.x.Reject(row)
}

// Checkpoint passes the connector's checkpoint on to staging, unless a
// stream rejects more than run.max_reject_ratio so far: a source that
// fails on its rejects must not have its state advanced past records it
// rejected, or they would never be read again once the mapping is fixed.
// Staging commits a checkpoint during a long read, so the check cannot
// wait for the end.
func (s *stager) Checkpoint(ctx context.Context, state json.RawMessage) error {
	s.checkpoints.Add(1)
	if s.checkRejectRatio(s.opts.Config.Run.MaxRejectRatio) != nil {
		return nil
	}
	return s.x.Checkpoint(state)
}

func (s *stager) progress(n int64) {
	if n%1000 != 0 {
		return
	}
	s.opts.Observer.SourceRecords(s.source, n, s.rejected.Load())
}

func (s *stager) report(sum *SourceSummary) {
	sum.Records = s.records.Load()
	sum.Deleted = s.deleted.Load()
	sum.Rejects = s.rejected.Load()
	for _, c := range s.counts {
		sum.Streams = append(sum.Streams, *c)
	}
	slices.SortFunc(sum.Streams, func(a, b StreamCount) int { return strings.Compare(a.Stream, b.Stream) })
	s.opts.Observer.SourceRecords(s.source, sum.Records, sum.Rejects)
}

// checkRejectRatio fails a source whose streams reject too much: a mapping
// that no longer fits the data should stop the run, not thin it out.
func (s *stager) checkRejectRatio(max float64) error {
	for _, c := range s.counts {
		total := c.Records + c.Rejects
		if total == 0 || c.Rejects == 0 {
			continue
		}
		if ratio := float64(c.Rejects) / float64(total); ratio > max {
			return fmt.Errorf("source %s: stream %s rejected %d of %d records (%.1f%%, more than run.max_reject_ratio %.1f%%), the first for %s; its state is not advanced past the last checkpoint within that ratio, so the next sync reads those records again (--log-level debug logs every reject)",
				s.source, c.Stream, c.Rejects, total, 100*ratio, 100*max, s.firstReject[c.Stream])
		}
	}
	return nil
}
