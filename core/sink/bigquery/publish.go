// Package bigquery publishes a Parquet snapshot (core/sink/parquet) to
// BigQuery tables, one per model table, named table_prefix + table name.
//
// Publish checks every table before it loads any: a missing dataset or
// table is created with the schema derived from the model (see Schema and
// TableLayout), new nullable columns are added, and an incompatible change
// stops the publish with nothing loaded. It then loads each table's
// Parquet files with load jobs into a staging table,
// <target>__staging_<run id>, and only when every table is staged
// replaces each target with a copy job (WRITE_TRUNCATE), which BigQuery
// applies atomically: readers see the old table or the new one, never a
// half-loaded one. Staging tables are removed afterwards, after a failure
// too, and expire by themselves after a day should even that fail.
package bigquery

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/option"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
)

// Options tune Publish. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// RunID names the staging tables and jobs and labels the jobs
	// (desilo_run_id). Default: the manifest's run id.
	RunID string
	// Attempts bounds the tries of one API call or job that fails with a
	// transient error (HTTP 5xx or 429, backendError, rateLimitExceeded,
	// internalError). Default 5.
	Attempts int
	// Sleep waits between attempts; tests replace it. Default: a timer
	// that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// CallTimeout bounds one attempt of an API call: a metadata call,
	// starting a copy job, one poll of a job's status. A call without an
	// answer by then is a transient error, retried as Attempts says. It
	// bounds neither a job, which may run long, nor a file's upload.
	// Default 30 seconds: BigQuery answers API calls in seconds, and the
	// client library retries an unreachable endpoint silently until then.
	CallTimeout time.Duration
	// UploadChunkSize is the size of one request of a resumable upload. A
	// file that fits in one chunk goes up in a single multipart request.
	// Default: the client's, 16 MiB.
	UploadChunkSize int
}

// Result is what a publish did.
type Result struct {
	Project, Dataset string
	DatasetCreated   bool
	Tables           []TableResult // in model order
}

// TableResult is what a publish did to one table.
type TableResult struct {
	Table   string // the model table: customer
	Target  string // the BigQuery table: <table_prefix>customer
	Rows    int64  // rows loaded
	Created bool   // the target did not exist
	Added   []string
	Relaxed []string // REQUIRED columns made NULLABLE
	// Kept are columns the model no longer has; they stay in BigQuery
	// and are NULL in the new rows.
	Kept              []string
	ClusteringChanged bool
	Replaced          bool // the target holds the snapshot's rows
}

// Publish loads the snapshot in snapshotDir, described by m, into the
// dataset cfg names. On error, the Result says how far it got and the
// error names the table that failed and why; a table whose load failed
// keeps its previous content.
func Publish(ctx context.Context, cfg config.BigQuery, snapshotDir string, m parquet.Manifest, opts Options) (*Result, error) {
	p, err := newPublisher(cfg, snapshotDir, m, opts)
	if err != nil {
		return nil, err
	}
	client, err := NewClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	p.client = client
	p.ds = client.Dataset(cfg.Dataset)
	err = p.publish(ctx)
	return p.res, err
}

// NewClient opens a BigQuery client for cfg: with cfg.Endpoint (an
// emulator or a test) unauthenticated, else with cfg.CredentialsFile (a
// service account key) or Application Default Credentials. Jobs run in
// cfg.Location.
func NewClient(ctx context.Context, cfg config.BigQuery) (*bq.Client, error) {
	var opts []option.ClientOption
	switch {
	case cfg.Endpoint != "":
		ep, err := endpoint(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, option.WithEndpoint(ep), option.WithoutAuthentication())
	case cfg.CredentialsFile != "":
		opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile))
	}
	c, err := bq.NewClient(ctx, cfg.Project, opts...)
	if err != nil {
		return nil, fmt.Errorf("bigquery project %s: %w", cfg.Project, err)
	}
	c.Location = cfg.Location
	return c, nil
}

// endpoint turns a base URL without a path into the API's root, as the
// client expects it: http://localhost:9050 → http://localhost:9050/bigquery/v2/.
func endpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("output.bigquery.endpoint %q: not a URL", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/bigquery/v2/"
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}

type publisher struct {
	cfg    config.BigQuery
	dir    string
	m      parquet.Manifest
	opts   Options
	log    *slog.Logger
	client *bq.Client
	ds     *bq.Dataset
	res    *Result
	tables []*tableRun
	staged []*bq.Table // staging tables to remove when done
	run    string      // the run id as a part of ids
	nonce  string      // tells this publish's job ids from an earlier one's
	loc    string      // the dataset's location: jobs.get of a job in a single region needs it
}

// tableRun is one table's publish.
type tableRun struct {
	model   *model.Table
	schema  bq.Schema // derived; after planning, the target's schema to be
	layout  Layout
	files   []string
	rows    int64 // the manifest's
	res     *TableResult
	target  *bq.Table
	staging *bq.Table
	meta    *bq.TableMetadata // the target's, nil when missing
	change  change
}

func newPublisher(cfg config.BigQuery, dir string, m parquet.Manifest, opts Options) (*publisher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RunID == "" {
		opts.RunID = m.RunID
	}
	if opts.Attempts < 1 {
		opts.Attempts = defaultAttempts
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = defaultCallTimeout
	}
	if cfg.Project == "" || cfg.Dataset == "" {
		return nil, errors.New("output.bigquery: project and dataset are required")
	}
	p := &publisher{
		cfg: cfg, dir: dir, m: m, opts: opts, log: opts.Logger,
		res:   &Result{Project: cfg.Project, Dataset: cfg.Dataset},
		run:   idPart(opts.RunID),
		nonce: idPart(rand.Text()[:8]),
	}
	for name := range m.Tables {
		if !slices.Contains(model.Outputs, name) {
			return nil, fmt.Errorf("snapshot %s: table %s is not a model output table", dir, name)
		}
	}
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	for _, name := range model.Outputs {
		mt, ok := m.Tables[name]
		if !ok {
			continue
		}
		t, err := model.Load(name)
		if err != nil {
			return nil, err
		}
		l, err := TableLayout(cfg, t)
		if err != nil {
			return nil, err
		}
		tr := &tableRun{model: t, schema: Schema(t), layout: l, rows: mt.Rows,
			res: &TableResult{Table: name, Target: cfg.TablePrefix + name}}
		for _, f := range mt.Files {
			path := filepath.Join(dir, filepath.FromSlash(f))
			if _, err := os.Stat(path); err != nil {
				return nil, fmt.Errorf("snapshot %s, table %s: %w", dir, name, err)
			}
			tr.files = append(tr.files, path)
		}
		p.tables = append(p.tables, tr)
		p.res.Tables = append(p.res.Tables, TableResult{}) // filled in at the end
	}
	return p, nil
}

func (p *publisher) publish(ctx context.Context) error {
	defer p.collect()
	if err := p.dataset(ctx); err != nil {
		return err
	}
	// Check every table before changing any.
	var errs []error
	for _, t := range p.tables {
		if err := p.plan(ctx, t); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, t := range p.tables {
		if err := p.prepare(ctx, t); err != nil {
			return fmt.Errorf("bigquery table %s: %w", t.res.Target, err)
		}
	}
	defer p.cleanup(ctx)
	for _, t := range p.tables {
		if err := p.stage(ctx, t); err != nil {
			return fmt.Errorf("bigquery table %s: %w (no table was replaced)", t.res.Target, err)
		}
	}
	// Every table is staged: replace the targets, one atomic copy each.
	for _, t := range p.tables {
		if err := p.replace(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("bigquery table %s: replace from staging: %w", t.res.Target, err))
			continue
		}
		p.log.Info("bigquery table published", "table", p.fullID(t.res.Target), "rows", t.res.Rows)
	}
	return errors.Join(errs...)
}

func (p *publisher) collect() {
	for i, t := range p.tables {
		p.res.Tables[i] = *t.res
	}
}

func (p *publisher) fullID(table string) string {
	return p.cfg.Project + "." + p.cfg.Dataset + "." + table
}

// dataset makes sure the dataset exists, in the configured location, and
// learns its location.
func (p *publisher) dataset(ctx context.Context) error {
	var md *bq.DatasetMetadata
	get := func(ctx context.Context) (err error) {
		md, err = p.ds.Metadata(ctx)
		return err
	}
	err := p.call(ctx, "get dataset", get)
	if isStatus(err, http.StatusNotFound) {
		err = p.call(ctx, "create dataset", func(ctx context.Context) error {
			return p.ds.Create(ctx, &bq.DatasetMetadata{Location: p.cfg.Location, Description: "desilo: the unified customer model"})
		})
		if err != nil && !isStatus(err, http.StatusConflict) {
			return fmt.Errorf("bigquery dataset %s.%s: create: %w", p.cfg.Project, p.cfg.Dataset, err)
		}
		if err == nil {
			p.res.DatasetCreated = true
			p.log.Info("bigquery dataset created", "dataset", p.cfg.Project+"."+p.cfg.Dataset, "location", p.cfg.Location)
		}
		// Read back: without a configured location BigQuery chose one.
		err = p.call(ctx, "get dataset", get)
	}
	if err != nil {
		return fmt.Errorf("bigquery dataset %s.%s: %w", p.cfg.Project, p.cfg.Dataset, err)
	}
	if p.cfg.Location != "" && md.Location != "" && !strings.EqualFold(md.Location, p.cfg.Location) {
		return fmt.Errorf("bigquery dataset %s.%s is in location %s, output.bigquery.location says %s", p.cfg.Project, p.cfg.Dataset, md.Location, p.cfg.Location)
	}
	p.loc = cmp.Or(md.Location, p.cfg.Location)
	return nil
}

// plan reads the target's metadata and decides what prepare does.
func (p *publisher) plan(ctx context.Context, t *tableRun) error {
	t.target = p.ds.Table(t.res.Target)
	t.staging = p.ds.Table(t.res.Target + "__staging_" + p.run)
	err := p.call(ctx, "get table "+t.res.Target, func(ctx context.Context) (err error) {
		t.meta, err = t.target.Metadata(ctx)
		return err
	})
	if isStatus(err, http.StatusNotFound) {
		t.meta = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("bigquery table %s: %w", t.res.Target, err)
	}
	p.keepPartitioning(t)
	ch, err := evolve(p.fullID(t.res.Target), t.meta, t.schema, t.layout)
	if err != nil {
		return err
	}
	t.change, t.schema = ch, ch.schema
	return nil
}

// keepPartitioning lets an existing target keep the partition granularity
// an older default gave it (events by day), when the config does not set
// one: BigQuery cannot change it in place, and the table works until a
// load spans more than 4,000 of its partitions.
func (p *publisher) keepPartitioning(t *tableRun) {
	have, want := t.meta.TimePartitioning, t.layout.Partitioning
	if !t.layout.DefaultPartitioning || have == nil || want == nil || !strings.EqualFold(have.Field, want.Field) || have.Type == want.Type {
		return
	}
	kept := *want
	kept.Type = cmp.Or(have.Type, bq.DayPartitioningType)
	t.layout.Partitioning = &kept
	p.log.Warn("bigquery table keeps its partitioning, which differs from desilo's default; a load job may write at most 4,000 partitions, so set output.bigquery.tables.<table>.partition_type to say which you want, or drop the table and let the next publish recreate it",
		"table", p.fullID(t.res.Target), "partitioning", string(kept.Type), "default", string(want.Type))
}

// prepare creates a missing target or applies the planned additive change.
func (p *publisher) prepare(ctx context.Context, t *tableRun) error {
	if t.meta == nil {
		md := &bq.TableMetadata{Schema: t.schema, TimePartitioning: t.layout.Partitioning,
			Description: "desilo: the unified model's " + t.model.Name + " table"}
		if len(t.layout.Clustering) > 0 {
			md.Clustering = &bq.Clustering{Fields: t.layout.Clustering}
		}
		err := p.call(ctx, "create table "+t.res.Target, func(ctx context.Context) error { return t.target.Create(ctx, md) })
		if isStatus(err, http.StatusConflict) {
			// The client retries the insert itself: one that succeeded
			// but whose answer was lost comes back as 409.
			err = p.created(ctx, t)
		}
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		t.res.Created = true
		p.log.Info("bigquery table created", "table", p.fullID(t.res.Target))
		return nil
	}
	ch := t.change
	if !ch.update && ch.clustering == nil {
		return nil
	}
	err := p.update(ctx, t, ch, t.meta.ETag)
	if isStatus(err, http.StatusPreconditionFailed) {
		// The table changed since plan read it: by this very patch, when
		// its answer was lost and the client retried it with the old
		// ETag, or by someone else. Check it again.
		err = p.replan(ctx, t)
	}
	if err != nil {
		return fmt.Errorf("update schema: %w", err)
	}
	t.res.Added, t.res.Relaxed, t.res.Kept = ch.added, ch.relaxed, ch.kept
	t.res.ClusteringChanged = ch.clustering != nil
	p.log.Info("bigquery table updated", "table", p.fullID(t.res.Target),
		"added", ch.added, "relaxed", ch.relaxed, "clustering", ch.clustering)
	if len(ch.kept) > 0 {
		p.log.Warn("bigquery table keeps columns the model no longer has; they are NULL in new rows",
			"table", p.fullID(t.res.Target), "columns", ch.kept)
	}
	return nil
}

// update patches the target as ch says, if it still has the ETag etag.
func (p *publisher) update(ctx context.Context, t *tableRun, ch change, etag string) error {
	var upd bq.TableMetadataToUpdate
	if ch.update {
		upd.Schema = ch.schema
	}
	if ch.clustering != nil {
		upd.Clustering = &bq.Clustering{Fields: ch.clustering}
	}
	return p.call(ctx, "update table "+t.res.Target, func(ctx context.Context) error {
		_, err := t.target.Update(ctx, upd, etag)
		return err
	})
}

// replan re-reads a target whose update failed its ETag check and patches
// what is still to change, with the new ETag.
func (p *publisher) replan(ctx context.Context, t *tableRun) error {
	var md *bq.TableMetadata
	err := p.call(ctx, "get table "+t.res.Target, func(ctx context.Context) (err error) {
		md, err = t.target.Metadata(ctx)
		return err
	})
	if err != nil {
		return err
	}
	ch, err := evolve(p.fullID(t.res.Target), md, Schema(t.model), t.layout)
	if err != nil {
		return err
	}
	t.schema = ch.schema
	if !ch.update && ch.clustering == nil {
		return nil
	}
	return p.update(ctx, t, ch, md.ETag)
}

// created checks a target whose create answered 409 Already Exists: it
// will do if it is the table desilo was creating.
func (p *publisher) created(ctx context.Context, t *tableRun) error {
	var md *bq.TableMetadata
	err := p.call(ctx, "get table "+t.res.Target, func(ctx context.Context) (err error) {
		md, err = t.target.Metadata(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("the table already exists (409), and reading it failed: %w", err)
	}
	var diff []string
	if !sameSchema(md.Schema, t.schema) {
		diff = append(diff, "its schema is not the model's")
	}
	if msg := partitionDiff(md.TimePartitioning, t.layout.Partitioning); msg != "" {
		diff = append(diff, msg)
	}
	var hc []string
	if md.Clustering != nil {
		hc = md.Clustering.Fields
	}
	if !slices.Equal(hc, t.layout.Clustering) {
		diff = append(diff, fmt.Sprintf("it is clustered by %v, the config wants %v", hc, t.layout.Clustering))
	}
	if len(diff) > 0 {
		return fmt.Errorf("the table appeared while desilo created it (409 Already Exists), and not as desilo creates it: %s; publish again to check it against the model",
			strings.Join(diff, "; "))
	}
	return nil
}

// stage creates the staging table like the target and loads every file
// of the table into it.
func (p *publisher) stage(ctx context.Context, t *tableRun) error {
	md := &bq.TableMetadata{
		Schema: t.schema, TimePartitioning: t.layout.Partitioning,
		Description:    "desilo: staging of run " + p.opts.RunID + "; removed when the publish ends",
		ExpirationTime: time.Now().Add(24 * time.Hour),
		Labels:         p.labels(t.model.Name),
	}
	if len(t.layout.Clustering) > 0 {
		md.Clustering = &bq.Clustering{Fields: t.layout.Clustering}
	}
	create := func(ctx context.Context) error { return t.staging.Create(ctx, md) }
	err := p.call(ctx, "create staging table", create)
	if isStatus(err, http.StatusConflict) {
		// A leftover of an interrupted publish with the same run id.
		if err = p.call(ctx, "delete old staging table", t.staging.Delete); err == nil {
			err = p.call(ctx, "create staging table", create)
		}
	}
	if err != nil {
		return fmt.Errorf("create staging table %s: %w", t.staging.TableID, err)
	}
	p.staged = append(p.staged, t.staging)
	var rows int64
	for i, path := range t.files {
		n, err := p.load(ctx, t, i, path)
		if err != nil {
			return fmt.Errorf("load %s: %w", path, err)
		}
		rows += n
	}
	if rows != t.rows {
		return fmt.Errorf("loaded %d rows into %s, the snapshot has %d", rows, t.staging.TableID, t.rows)
	}
	t.res.Rows = rows
	return nil
}
