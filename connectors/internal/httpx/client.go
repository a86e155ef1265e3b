package httpx

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/desilo/desilo/plugins/connector"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultTimeout       = 60 * time.Second
	DefaultMaxAttempts   = 6
	DefaultMaxRetryAfter = 2 * time.Minute
	DefaultBaseBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	// MaxBodyBytes bounds a response body held in memory.
	MaxBodyBytes = 64 << 20
)

// Auth is the credential header sent with every request. Its Secrets are
// redacted from everything the client reports.
type Auth struct {
	Header  string
	Value   string
	Secrets []string
}

// Bearer is "Authorization: Bearer TOKEN".
func Bearer(token string) Auth {
	return Auth{Header: "Authorization", Value: "Bearer " + token, Secrets: []string{token}}
}

// Basic is HTTP Basic auth. The password and the encoded pair are secrets;
// the user name is not.
func Basic(user, password string) Auth {
	enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return Auth{Header: "Authorization", Value: "Basic " + enc, Secrets: []string{password, enc}}
}

// HeaderAuth sends value in header name (e.g. X-Shopify-Access-Token).
func HeaderAuth(name, value string) Auth {
	return Auth{Header: name, Value: value, Secrets: []string{value}}
}

// Options configure a Client. Zero fields take the defaults above.
type Options struct {
	// Name prefixes every error ("hubspot: GET /x: ...").
	Name    string
	BaseURL string
	Auth    Auth
	// AuthHint ends the message of a 401 or 403 ("check the token").
	AuthHint string
	// Secrets are redacted in addition to Auth.Secrets.
	Secrets []string
	// Header is sent with every request (Accept, User-Agent, ...).
	Header http.Header

	Timeout           time.Duration
	MaxAttempts       int
	RequestsPerSecond float64 // 0: unlimited
	MaxRetryAfter     time.Duration
	BaseBackoff       time.Duration
	MaxBackoff        time.Duration

	// RateLimited, when set, reads each 429 response: it returns the
	// least wait before the retry when the response has no Retry-After,
	// or an error to give up at once (a quota used up for the day).
	RateLimited func(resp *Response) (minWait time.Duration, err error)

	// HTTPClient defaults to a client without a global timeout (Timeout
	// is applied per attempt instead). The Client uses a copy of it that
	// refuses redirects to another scheme or host.
	HTTPClient *http.Client
	// Sleep waits d or until ctx is done. Tests replace it so retries
	// do not really wait.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client sends requests with retries, rate limiting and redaction.
type Client struct {
	o       Options
	base    *url.URL
	limiter *rate.Limiter
	secrets []string
}

// New returns a client for o.
func New(o Options) (*Client, error) {
	if o.Name == "" {
		return nil, errors.New("httpx: Options.Name is empty")
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("%s: base_url %q is not an http(s) URL", o.Name, o.BaseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	c := &Client{o: o, base: base}
	// A copy, so the caller's client is left as it was.
	hc := *o.HTTPClient
	hc.CheckRedirect = c.checkRedirect(o.HTTPClient.CheckRedirect)
	c.o.HTTPClient = &hc
	if o.RequestsPerSecond > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(o.RequestsPerSecond), max(1, int(o.RequestsPerSecond)))
	}
	for _, s := range append(append([]string(nil), o.Auth.Secrets...), o.Secrets...) {
		if s == "" {
			continue
		}
		c.secrets = append(c.secrets, s, url.QueryEscape(s), url.PathEscape(s))
	}
	return c, nil
}

// Sleep waits d, or until ctx is done (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Redact replaces every secret in s by [REDACTED].
func (c *Client) Redact(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
	}
	return s
}

// Request is one API call.
type Request struct {
	Method string
	// Path is relative to the base URL ("/crm/v3/objects/contacts"), or an
	// absolute URL on the base URL's host.
	Path  string
	Query url.Values
	// Body, when not nil, is sent as JSON.
	Body any
	// Limiter, when set, is waited for before each attempt, after the
	// client's own: for endpoints with a lower limit of their own.
	Limiter *rate.Limiter
}

// Response is a successful (2xx) response, body read in full.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte

	client *Client
	what   string // "GET /path", redacted
}

// JSON decodes the body into out; a malformed body gives an error with a
// short, redacted excerpt of it.
func (r *Response) JSON(out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return fmt.Errorf("%s: %s: malformed JSON response (%s); body starts: %q",
			r.client.o.Name, r.what, r.client.Redact(err.Error()), r.client.excerpt(r.Body))
	}
	return nil
}

// GetJSON sends a GET and decodes the JSON response into out.
func (c *Client) GetJSON(ctx context.Context, path string, query url.Values, out any) (*Response, error) {
	return c.doJSON(ctx, Request{Method: http.MethodGet, Path: path, Query: query}, out)
}

// PostJSON sends body as JSON and decodes the JSON response into out.
func (c *Client) PostJSON(ctx context.Context, path string, body, out any) (*Response, error) {
	return c.doJSON(ctx, Request{Method: http.MethodPost, Path: path, Body: body}, out)
}

func (c *Client) doJSON(ctx context.Context, req Request, out any) (*Response, error) {
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp, resp.JSON(out)
}

// StatusError is a response with a status that is not 2xx and was not (or
// no longer) retried.
type StatusError struct {
	StatusCode int
	Attempts   int
	msg        string
}

func (e *StatusError) Error() string { return e.msg }

// Is makes a 401 or 403 a connector.ErrConfig: the token or its scopes,
// in the source's config, are what to fix (exit code 3, not 4).
func (e *StatusError) Is(target error) bool {
	return target == connector.ErrConfig && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
}

// IsStatus says whether err is a *StatusError with the given code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.StatusCode == code
}

// Do sends req, retrying as the package doc says, and returns the 2xx
// response or an error.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	u, err := c.url(req)
	if err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		if body, err = json.Marshal(req.Body); err != nil {
			return nil, fmt.Errorf("%s: encoding request body: %w", c.o.Name, err)
		}
	}
	what := req.Method + " " + c.Redact(u.EscapedPath())
	log := connector.Log(ctx)
	for attempt := 1; ; attempt++ {
		for _, l := range []*rate.Limiter{c.limiter, req.Limiter} {
			if l == nil {
				continue
			}
			if err := l.Wait(ctx); err != nil {
				return nil, fmt.Errorf("%s: %s: waiting for the rate limiter: %w", c.o.Name, what, ctxErr(ctx, err))
			}
		}
		resp, err := c.attempt(ctx, req.Method, u, body)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %s: %w", c.o.Name, what, ctx.Err())
		}
		var retryErr error // the error to return when no attempt is left
		var reason string  // why this attempt failed, for the log
		var wait time.Duration
		var re *redirectError
		switch {
		case errors.As(err, &re):
			return nil, fmt.Errorf("%s: %s: %s", c.o.Name, what, c.Redact(re.Error()))
		case err != nil:
			reason = c.Redact(err.Error())
			retryErr = fmt.Errorf("%s: %s: %w (after %d attempts)", c.o.Name, what, redactedError{err, reason}, attempt)
			wait = c.backoff(attempt)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			resp.client, resp.what = c, what
			return resp, nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			reason = statusText(resp.StatusCode)
			retryErr = c.statusError(what, resp, attempt)
			wait = c.backoff(attempt)
			var minWait time.Duration
			if resp.StatusCode == http.StatusTooManyRequests && c.o.RateLimited != nil {
				resp.client, resp.what = c, what
				var err error
				if minWait, err = c.o.RateLimited(resp); err != nil {
					return nil, &StatusError{StatusCode: resp.StatusCode, Attempts: attempt,
						msg: fmt.Sprintf("%s: %s: %s", c.o.Name, what, c.Redact(err.Error()))}
				}
			}
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				wait = min(ra, c.o.MaxRetryAfter)
			} else {
				wait = max(wait, minWait)
			}
		default:
			return nil, c.statusError(what, resp, attempt)
		}
		if attempt >= c.o.MaxAttempts {
			return nil, retryErr
		}
		log.Warn("retrying HTTP request", "connector", c.o.Name, "request", what, "reason", reason,
			"attempt", attempt, "max_attempts", c.o.MaxAttempts, "wait", wait.String())
		if err := c.o.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s: %s: cancelled while waiting to retry: %w", c.o.Name, what, ctxErr(ctx, err))
		}
	}
}

// maxRedirects is net/http's own limit, kept when CheckRedirect is ours.
const maxRedirects = 10

// redirectError is a redirect refused because it leaves the configured
// scheme and host.
type redirectError struct{ from, to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("refusing to follow a redirect from %s to %s: credentials are sent only to the configured host", e.from, e.to)
}

// checkRedirect refuses a redirect to another scheme or host: net/http
// strips only Authorization and Cookie there, so a credential in another
// header (X-Shopify-Access-Token) and a 307/308 body would go along. Same-
// host redirects go on to next, the caller's own check, if any.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != c.base.Scheme || req.URL.Host != c.base.Host {
			return &redirectError{from: c.base.Scheme + "://" + c.base.Host, to: req.URL.Scheme + "://" + req.URL.Host}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// redactedError shows a redacted message but keeps the cause for errors.Is.
type redactedError struct {
	cause error
	msg   string
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.cause }

// ctxErr prefers ctx's error: the limiter reports a deadline it cannot
// meet with its own error.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (c *Client) url(req Request) (*url.URL, error) {
	var u *url.URL
	if strings.HasPrefix(req.Path, "http://") || strings.HasPrefix(req.Path, "https://") {
		p, err := url.Parse(req.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: bad URL from the API: %s", c.o.Name, c.Redact(err.Error()))
		}
		if p.Scheme != c.base.Scheme || p.Host != c.base.Host {
			return nil, fmt.Errorf("%s: refusing to follow %s://%s%s: not on the configured host %s",
				c.o.Name, p.Scheme, p.Host, c.Redact(p.EscapedPath()), c.base.Host)
		}
		u = p
	} else {
		p, err := url.Parse(req.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: bad request path: %s", c.o.Name, c.Redact(err.Error()))
		}
		u = c.base.JoinPath(p.Path)
		if !strings.HasPrefix(u.Path, "/") {
			u.Path = "/" + u.Path
		}
		u.RawQuery = p.RawQuery
	}
	if len(req.Query) > 0 {
		q := u.Query()
		for k, vs := range req.Query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// attempt sends one request and reads the whole body under the per-attempt
// timeout.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, body []byte) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range c.o.Header {
		hr.Header[k] = vs
	}
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if c.o.Auth.Header != "" {
		hr.Header.Set(c.o.Auth.Header, c.o.Auth.Value)
	}
	resp, err := c.o.HTTPClient.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no response within %s (timeout): %w", c.o.Timeout, context.DeadlineExceeded)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err // its message holds the full URL, query and all
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("response body not read within %s (timeout): %w", c.o.Timeout, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if len(b) > MaxBodyBytes {
		return nil, fmt.Errorf("response body larger than %d bytes", MaxBodyBytes)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

func (c *Client) statusError(what string, resp *Response, attempts int) *StatusError {
	status := statusText(resp.StatusCode)
	var msg string
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		msg = fmt.Sprintf("%s: %s: rate limited after %d attempts (%s)", c.o.Name, what, attempts, status)
	case resp.StatusCode >= 500:
		msg = fmt.Sprintf("%s: %s: %s after %d attempts", c.o.Name, what, status, attempts)
	default:
		msg = fmt.Sprintf("%s: %s: %s", c.o.Name, what, status)
	}
	if (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && c.o.AuthHint != "" {
		msg += ": " + c.o.AuthHint
	}
	if ex := c.excerpt(resp.Body); ex != "" {
		msg += fmt.Sprintf("; response: %q", ex)
	}
	return &StatusError{StatusCode: resp.StatusCode, Attempts: attempts, msg: msg}
}

// statusText is "401 Unauthorized".
func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// excerpt is the start of a body, valid UTF-8, redacted.
func (c *Client) excerpt(b []byte) string {
	const n = 200
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = c.Redact(s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return strings.TrimSpace(s)
}

// Backoff is the wait before retrying after failed attempt number attempt
// (from 1), for callers that retry failures reported in a 2xx body.
func (c *Client) Backoff(attempt int) time.Duration { return c.backoff(attempt) }

// backoff is full jitter: a uniform wait in [0, min(max, base·2^(attempt-1))).
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.o.MaxBackoff
	if attempt-1 < 30 {
		ceil = min(ceil, c.o.BaseBackoff<<(attempt-1))
	}
	return rand.N(ceil) + 1
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs != secs { // negative or NaN
			return 0, false
		}
		if secs > 1e9 {
			secs = 1e9
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}
