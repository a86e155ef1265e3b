package bigquery

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// load runs the load job of one Parquet file into the staging table. Every
// file appends: WRITE_TRUNCATE would also replace the table's schema with
// the file's, losing the column descriptions and the columns the model
// dropped, which the copy would then carry over the target. The staging
// table is new and empty, and a job that failed wrote nothing, so no row
// is loaded twice.
func (p *publisher) load(ctx context.Context, t *tableRun, i int, path string) (int64, error) {
	base := fmt.Sprintf("desilo_%s_%s_%s_load%d", p.run, t.model.Name, p.nonce, i)
	// The start is not bounded by CallTimeout: it uploads the file, which
	// takes as long as the file needs. The client retries an upload's
	// chunks for a limited time only, a single-request upload not at all.
	st, err := p.job(ctx, "load "+t.model.Name, base, func(ctx context.Context, id string) (*bq.Job, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the upload is done when Run returns
		src := bq.NewReaderSource(f)
		src.SourceFormat = bq.Parquet
		// Lists are Parquet's three-level LIST; inference makes them
		// REPEATED columns rather than records of records.
		src.ParquetOptions = &bq.ParquetOptions{EnableListInference: true}
		l := t.staging.LoaderFrom(src)
		l.CreateDisposition = bq.CreateNever
		l.WriteDisposition = bq.WriteAppend
		l.Labels = p.labels(t.model.Name)
		l.JobID = id
		if p.opts.UploadChunkSize > 0 {
			l.MediaOptions = []googleapi.MediaOption{googleapi.ChunkSize(p.opts.UploadChunkSize)}
		}
		return l.Run(ctx)
	})
	if err != nil {
		return 0, err
	}
	ls, ok := st.Statistics.Details.(*bq.LoadStatistics)
	if !ok {
		return 0, fmt.Errorf("load job of %s reported no load statistics", path)
	}
	return ls.OutputRows, nil
}

// replace copies the staging table over the target in one atomic job.
func (p *publisher) replace(ctx context.Context, t *tableRun) error {
	base := fmt.Sprintf("desilo_%s_%s_%s_copy", p.run, t.model.Name, p.nonce)
	_, err := p.job(ctx, "copy "+t.model.Name, base, func(ctx context.Context, id string) (j *bq.Job, err error) {
		c := t.target.CopierFrom(t.staging)
		c.CreateDisposition = bq.CreateNever
		c.WriteDisposition = bq.WriteTruncate
		c.Labels = p.labels(t.model.Name)
		c.JobID = id
		err = p.bounded(ctx, "start job "+id, func(ctx context.Context) (err error) {
			j, err = c.Run(ctx)
			return err
		})
		return j, err
	})
	if err != nil {
		return err
	}
	t.res.Replaced = true
	return nil
}

// job starts a job with start and waits for it, retrying transient
// failures. A retried insert keeps its job id, so an insert that reached
// BigQuery although its answer did not (409 duplicate) is waited for
// rather than run twice; a failed wait polls the same job again; a job
// that ran and failed is retried as a new job.
func (p *publisher) job(ctx context.Context, what, base string, start func(ctx context.Context, id string) (*bq.Job, error)) (*bq.JobStatus, error) {
	n := 1
	var j *bq.Job // started, its outcome not yet known
	var st *bq.JobStatus
	err := p.retry(ctx, what, func() error {
		id := fmt.Sprintf("%s_%d", base, n)
		if j == nil {
			started, err := start(ctx, id)
			if isStatus(err, http.StatusConflict) {
				err = p.bounded(ctx, "get job "+id, func(ctx context.Context) (err error) {
					started, err = p.client.JobFromIDLocation(ctx, id, p.loc)
					return err
				})
			}
			if err != nil {
				return err
			}
			j = started
		}
		s, err := p.wait(ctx, j)
		if err != nil {
			return fmt.Errorf("job %s: %w", id, err)
		}
		j = nil
		if s.Err() != nil {
			n++
			return newJobError(id, s)
		}
		st = s
		return nil
	})
	return st, err
}

// wait polls a job until it is done. Each poll is bounded by CallTimeout
// (Job.Wait would retry a failing poll for as long as ctx lasts); the job
// itself is not, as a big load may run long.
func (p *publisher) wait(ctx context.Context, j *bq.Job) (*bq.JobStatus, error) {
	pause := firstPoll
	for {
		var s *bq.JobStatus
		err := p.bounded(ctx, "get job status", func(ctx context.Context) (err error) {
			s, err = j.Status(ctx)
			return err
		})
		if err != nil || s.Done() {
			return s, err
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
		pause = min(2*pause, maxPoll)
	}
}

// jobError is a job that ran and failed, with BigQuery's reasons.
type jobError struct {
	id     string
	result error // *bq.Error, the job's errorResult
	more   []string
}

func newJobError(id string, s *bq.JobStatus) *jobError {
	e := &jobError{id: id, result: s.Err()}
	first := s.Err().Error()
	for _, d := range s.Errors {
		if d == nil || d.Error() == first || len(e.more) == 3 {
			continue
		}
		e.more = append(e.more, d.Message)
	}
	return e
}

func (e *jobError) Error() string {
	msg := fmt.Sprintf("job %s failed: %s", e.id, e.result)
	if be, ok := e.result.(*bq.Error); ok {
		msg = fmt.Sprintf("job %s failed: %s (reason %s)", e.id, be.Message, be.Reason)
	}
	if len(e.more) > 0 {
		msg += "; " + strings.Join(e.more, "; ")
	}
	return msg
}

func (e *jobError) Unwrap() error { return e.result }

// labels mark a publish's jobs and staging tables, so they can be found
// in the job history and billing by run.
func (p *publisher) labels(table string) map[string]string {
	return map[string]string{
		"desilo_run_id":   labelValue(p.opts.RunID),
		"desilo_snapshot": labelValue(p.m.RunID),
		"desilo_table":    labelValue(table),
	}
}

// cleanup removes the staging tables, also when ctx was cancelled.
func (p *publisher) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, t := range p.staged {
		err := p.call(ctx, "delete staging table", t.Delete)
		if err != nil && !isStatus(err, http.StatusNotFound) {
			p.log.Warn("bigquery: staging table not removed; it expires in a day",
				"table", p.fullID(t.TableID), "error", err.Error())
		}
	}
	p.staged = nil
}
