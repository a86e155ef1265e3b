package bigquery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// Retry defaults, after BigQuery's SLA advice: start at a second, double,
// give up after five attempts.
const (
	defaultAttempts    = 5
	firstBackoff       = time.Second
	maxBackoff         = 32 * time.Second
	defaultCallTimeout = 30 * time.Second
	// A running job is polled at these intervals, doubling.
	firstPoll = time.Second
	maxPoll   = 16 * time.Second
)

// transientReasons are the error reasons BigQuery documents as worth a
// retry: the request or job may succeed when tried again.
var transientReasons = []string{"backendError", "rateLimitExceeded", "internalError", "jobBackendError", "jobInternalError", "jobRateLimitExceeded"}

// transient reports whether err is worth another attempt: an HTTP 5xx or
// 429, an API or job error with a transient reason, or no answer in time.
func transient(err error) bool {
	var na *noAnswerError
	if errors.As(err, &na) {
		return true
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		if ge.Code >= 500 || ge.Code == http.StatusTooManyRequests {
			return true
		}
		for _, e := range ge.Errors {
			if slices.Contains(transientReasons, e.Reason) {
				return true
			}
		}
	}
	var je *bq.Error // a job's status error
	if errors.As(err, &je) && slices.Contains(transientReasons, je.Reason) {
		return true
	}
	return false
}

func isStatus(err error, code int) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == code
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry calls fn until it succeeds, fails for good, or the attempts are
// used up, sleeping with exponential backoff between transient failures.
func (p *publisher) retry(ctx context.Context, what string, fn func() error) error {
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if !transient(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= p.opts.Attempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		p.log.Warn("bigquery: transient error, retrying", "what", what, "attempt", attempt, "wait", wait.String(), "error", err.Error())
		if err := p.opts.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, maxBackoff)
	}
}

// call is retry for a metadata call (not a job), each attempt bounded.
func (p *publisher) call(ctx context.Context, what string, fn func(context.Context) error) error {
	return p.retry(ctx, what, func() error { return p.bounded(ctx, what, fn) })
}

// bounded runs one API call with its own deadline, Options.CallTimeout:
// the client library retries 5xx answers of most calls by itself for as
// long as ctx lasts, which for a run without a deadline is forever.
func (p *publisher) bounded(ctx context.Context, what string, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	err := fn(cctx)
	if err != nil && ctx.Err() == nil && cctx.Err() != nil {
		return &noAnswerError{what: what, d: p.opts.CallTimeout, err: err}
	}
	return err
}

// noAnswerError is a call that did not succeed within its deadline; it is
// transient, so retry's attempts and backoff apply to it.
type noAnswerError struct {
	what string
	d    time.Duration
	err  error
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("%s: no answer within %s: %v", e.what, e.d, e.err)
}

func (e *noAnswerError) Unwrap() error { return e.err }
