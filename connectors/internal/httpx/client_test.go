package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/desilo/desilo/plugins/connector"
)

const secret = "pat-na1-SECRET-1234"

// script answers the n-th request with the n-th handler; the last repeats.
type script struct {
	mu    sync.Mutex
	steps []http.HandlerFunc
	n     int
	auth  []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(s.n, len(s.steps)-1)
	s.n++
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	s.steps[i](w, r)
}

func (s *script) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func status(code int, body string, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// hangUp closes the connection without a response: a transport error.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func newClient(t *testing.T, url string, sl *sleeps, mod func(*Options)) *Client {
	t.Helper()
	o := Options{Name: "hubspot", BaseURL: url, Auth: Bearer(secret), AuthHint: "check the token", Sleep: sl.sleep}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRetries(t *testing.T) {
	ok := status(200, `{"ok":true}`)
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		wantCalls int
		wantErr   string // empty: success
		wantSleep []time.Duration
	}{
		{"429 retry-after seconds", []http.HandlerFunc{status(429, "slow down", "Retry-After", "7"), ok}, 2, "", []time.Duration{7 * time.Second}},
		{"429 retry-after capped", []http.HandlerFunc{status(429, "", "Retry-After", "86400"), ok}, 2, "", []time.Duration{DefaultMaxRetryAfter}},
		{"500 then ok", []http.HandlerFunc{status(500, "oops"), ok}, 2, "", nil},
		{"transport error then ok", []http.HandlerFunc{hangUp, ok}, 2, "", nil},
		{"rate limited to the end", []http.HandlerFunc{status(429, "", "Retry-After", "1")}, 6, "hubspot: GET /crm/v3/objects/contacts: rate limited after 6 attempts (429 Too Many Requests)", nil},
		{"503 to the end", []http.HandlerFunc{status(503, "down")}, 6, `hubspot: GET /crm/v3/objects/contacts: 503 Service Unavailable after 6 attempts; response: "down"`, nil},
		{"401 not retried", []http.HandlerFunc{status(401, `{"message":"bad token `+secret+`"}`)}, 1, `hubspot: GET /crm/v3/objects/contacts: 401 Unauthorized: check the token; response: "{\"message\":\"bad token [REDACTED]\"}"`, nil},
		{"404 not retried", []http.HandlerFunc{status(404, "")}, 1, "hubspot: GET /crm/v3/objects/contacts: 404 Not Found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{steps: tt.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			sl := &sleeps{}
			c := newClient(t, srv.URL, sl, nil)
			var out struct{ OK bool }
			_, err := c.GetJSON(context.Background(), "/crm/v3/objects/contacts", nil, &out)
			if tt.wantErr == "" {
				if err != nil || !out.OK {
					t.Fatalf("got %v, ok=%v", err, out.OK)
				}
			} else if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("error\n got %v\nwant %s", err, tt.wantErr)
			}
			// Only a refused token is the config's fault.
			if config := strings.Contains(tt.name, "401"); errors.Is(err, connector.ErrConfig) != config {
				t.Errorf("errors.Is(err, connector.ErrConfig) = %v, want %v", !config, config)
			}
			if got := s.calls(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if len(sl.d) != tt.wantCalls-1 {
				t.Errorf("sleeps = %v, want %d", sl.d, tt.wantCalls-1)
			}
			if tt.wantSleep != nil && !equalDurations(sl.d, tt.wantSleep) {
				t.Errorf("sleeps = %v, want %v", sl.d, tt.wantSleep)
			}
			for _, a := range s.auth {
				if a != "Bearer "+secret {
					t.Errorf("Authorization = %q", a)
				}
			}
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	c := newClient(t, "http://x", &sleeps{}, nil)
	for attempt := 1; attempt <= 40; attempt++ {
		ceil := DefaultMaxBackoff
		if attempt < 20 {
			ceil = min(ceil, DefaultBaseBackoff<<(attempt-1))
		}
		for range 50 {
			if d := c.backoff(attempt); d <= 0 || d > ceil {
				t.Fatalf("backoff(%d) = %v, want in (0, %v]", attempt, d, ceil)
			}
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "1e400", "NaN", "Sat, 01 Mar 2025 12:00:30 GMT", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := retryAfter(s, time.Now()); ok && d < 0 {
			t.Fatalf("retryAfter(%q) = %v", s, d)
		}
	})
}

func TestMalformedJSONExcerptIsRedacted(t *testing.T) {
	srv := httptest.NewServer(status(200, "<html>token="+secret+" gateway error</html>"))
	defer srv.Close()
	c := newClient(t, srv.URL, &sleeps{}, nil)
	var v map[string]any
	_, err := c.GetJSON(context.Background(), "/x", nil, &v)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"hubspot: GET /x: malformed JSON response", "token=[REDACTED] gateway"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error leaks the secret: %s", msg)
	}
}

func TestSecretNeverInErrorsOrLogs(t *testing.T) {
	steps := []http.HandlerFunc{status(500, "echo "+secret), hangUp, status(403, "forbidden for "+secret)}
	srv := httptest.NewServer(&script{steps: steps})
	defer srv.Close()
	var logs bytes.Buffer
	ctx := connector.WithLogger(context.Background(), slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c := newClient(t, srv.URL, &sleeps{}, func(o *Options) { o.Auth = Basic("me@x.com/token", secret) })
	// The secret also sits in the path and query, as a careless caller might put it.
	_, err := c.Do(ctx, Request{Method: "GET", Path: "/a/" + secret + "?k=" + secret})
	if err == nil || !IsStatus(err, 403) {
		t.Fatalf("want a 403 StatusError, got %v", err)
	}
	for name, s := range map[string]string{"error": err.Error(), "logs": logs.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, Basic("me@x.com/token", secret).Secrets[1]) {
			t.Errorf("%s leaks the secret: %s", name, s)
		}
	}
	if !strings.Contains(logs.String(), "retrying HTTP request") {
		t.Errorf("retries were not logged: %s", logs.String())
	}
}

func TestTransportErrorKeepsCause(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: connection refused
	c := newClient(t, "http://"+addr, &sleeps{}, func(o *Options) { o.MaxAttempts = 2 })
	_, err = c.Do(context.Background(), Request{Method: "GET", Path: "/x?token=" + secret})
	if err == nil {
		t.Fatal("no error")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("cause lost: %v", err)
	}
	if !strings.Contains(err.Error(), "hubspot: GET /x: ") || !strings.Contains(err.Error(), "(after 2 attempts)") || strings.Contains(err.Error(), secret) {
		t.Errorf("error = %v", err)
	}
}

func TestPerRequestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c := newClient(t, srv.URL, &sleeps{}, func(o *Options) { o.Timeout = 20 * time.Millisecond; o.MaxAttempts = 2 })
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/slow"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no response within 20ms (timeout)") {
		t.Fatalf("error = %v", err)
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	srv := httptest.NewServer(status(503, ""))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := newClient(t, srv.URL, &sleeps{}, func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return Sleep(ctx, time.Hour) }
	})
	_, err := c.Do(ctx, Request{Method: "GET", Path: "/x"})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled while waiting to retry") {
		t.Fatalf("error = %v", err)
	}
}

func TestCancelDuringRateLimiterWait(t *testing.T) {
	srv := httptest.NewServer(status(200, "{}"))
	defer srv.Close()
	c := newClient(t, srv.URL, &sleeps{}, func(o *Options) { o.RequestsPerSecond = 0.001 })
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}); err != nil {
		t.Fatal(err) // the burst admits the first request
	}
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	_, err := c.Do(ctx, Request{Method: "GET", Path: "/x"})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "rate limiter") {
		t.Fatalf("error = %v", err)
	}
}

func TestURLs(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.RequestURI())
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/api/", &sleeps{}, nil)
	ctx := context.Background()
	reqs := []Request{
		{Method: "GET", Path: "/v2/users.json", Query: map[string][]string{"page[size]": {"2"}}},
		{Method: "GET", Path: srv.URL + "/api/v2/next?cursor=abc"},
		{Method: "POST", Path: "/search", Body: map[string]int{"limit": 1}},
	}
	for _, r := range reqs {
		if _, err := c.Do(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"GET /api/v2/users.json?page%5Bsize%5D=2", "GET /api/v2/next?cursor=abc", "POST /api/search"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err := c.Do(ctx, Request{Method: "GET", Path: "https://evil.example/steal"})
	if err == nil || !strings.Contains(err.Error(), "not on the configured host") {
		t.Errorf("foreign host: %v", err)
	}
	if len(got) != 3 {
		t.Errorf("the foreign URL was requested")
	}
}

func TestCommonOptions(t *testing.T) {
	two := 2
	neg := -1
	def := Options{Name: "x", BaseURL: "https://api", RequestsPerSecond: 10}
	tests := []struct {
		name    string
		c       Common
		want    Options
		wantErr string
	}{
		{"defaults", Common{}, def, ""},
		{"overrides", Common{BaseURL: "http://localhost:1", RequestsPerSecond: 2.5, Timeout: "90s", MaxRetries: &two},
			Options{Name: "x", BaseURL: "http://localhost:1", RequestsPerSecond: 2.5, Timeout: 90 * time.Second, MaxAttempts: 3}, ""},
		{"bad timeout", Common{Timeout: "ten"}, Options{}, `timeout: "ten" is not a duration`},
		{"zero timeout", Common{Timeout: "0s"}, Options{}, "timeout: must be positive"},
		{"negative retries", Common{MaxRetries: &neg}, Options{}, "max_retries: must not be negative"},
		{"negative rps", Common{RequestsPerSecond: -1}, Options{}, "requests_per_second: must not be negative"},
	}
	for _, tt := range tests {
		got, err := tt.c.Options(def)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.BaseURL != tt.want.BaseURL || got.RequestsPerSecond != tt.want.RequestsPerSecond ||
			got.Timeout != tt.want.Timeout || got.MaxAttempts != tt.want.MaxAttempts {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestNewRejectsBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "api.hubapi.com", "ftp://x", "http://"} {
		if _, err := New(Options{Name: "x", BaseURL: u}); err == nil || !strings.Contains(err.Error(), "base_url") {
			t.Errorf("New(%q) = %v", u, err)
		}
	}
}

// TestRedirectDoesNotSendCredentialsToAnotherHost checks that a redirect
// to another host is refused, not retried, whether the client is the
// default or the caller's: net/http strips only Authorization and Cookie
// there, so a HeaderAuth credential (X-Shopify-Access-Token) and a 307
// body would reach it. A redirect on the configured host is followed.
func TestRedirectDoesNotSendCredentialsToAnotherHost(t *testing.T) {
	var mu sync.Mutex
	var got []string // X-Shopify-Access-Token per request, by path
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Host+r.URL.Path+" "+r.Header.Get("X-Shopify-Access-Token"))
		mu.Unlock()
		switch r.URL.Path {
		case "/elsewhere":
			// Another host name for the same listener.
			http.Redirect(w, r, "http://"+strings.Replace(r.Host, "127.0.0.1", "localhost", 1)+"/collect", http.StatusTemporaryRedirect)
		case "/moved":
			http.Redirect(w, r, "/here", http.StatusPermanentRedirect)
		default:
			io.WriteString(w, `{}`)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	other := strings.Replace(host, "127.0.0.1", "localhost", 1)

	callers := &http.Client{}
	for name, hc := range map[string]*http.Client{"default client": nil, "caller's client": callers} {
		mu.Lock()
		got = nil
		mu.Unlock()
		sl := &sleeps{}
		c := newClient(t, srv.URL, sl, func(o *Options) {
			o.Auth = HeaderAuth("X-Shopify-Access-Token", secret)
			o.HTTPClient = hc
		})
		var out map[string]any
		_, err := c.PostJSON(context.Background(), "/elsewhere", map[string]any{"query": "{shop{name}}"}, &out)
		want := "refusing to follow a redirect from http://" + host + " to http://" + other
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", name, err, want)
		}
		if _, err := c.PostJSON(context.Background(), "/moved", map[string]any{}, &out); err != nil {
			t.Errorf("%s: same-host redirect: %v", name, err)
		}
		mu.Lock()
		wantReqs := []string{host + "/elsewhere " + secret, host + "/moved " + secret, host + "/here " + secret}
		if strings.Join(got, "|") != strings.Join(wantReqs, "|") {
			t.Errorf("%s: requests %q, want %q (no retry, nothing to %s)", name, got, wantReqs, other)
		}
		mu.Unlock()
		if len(sl.d) != 0 {
			t.Errorf("%s: refused redirect retried after %v", name, sl.d)
		}
	}
	if callers.CheckRedirect != nil {
		t.Error("the caller's HTTPClient was modified")
	}
}

// TestRateLimitedAndRequestLimiter checks Options.RateLimited: a floor on
// the wait after a 429 without Retry-After (Retry-After still rules), or
// an error that ends the request at once; and that Request.Limiter is
// waited for before every attempt.
func TestRateLimitedAndRequestLimiter(t *testing.T) {
	ok := status(200, `{}`)
	rateLimited := func(resp *Response) (time.Duration, error) {
		if strings.Contains(string(resp.Body), "DAILY") {
			return 0, errors.New("daily limit used up")
		}
		return 5 * time.Second, nil
	}
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		wantErr   string // empty: success
		wantSleep []time.Duration
	}{
		{"floor", []http.HandlerFunc{status(429, "SECONDLY"), ok}, "", []time.Duration{5 * time.Second}},
		{"retry-after rules", []http.HandlerFunc{status(429, "SECONDLY", "Retry-After", "2"), ok}, "", []time.Duration{2 * time.Second}},
		{"final", []http.HandlerFunc{status(429, "DAILY"), ok}, "hubspot: GET /x: daily limit used up", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&script{steps: tt.steps})
			defer srv.Close()
			sl := &sleeps{}
			c := newClient(t, srv.URL, sl, func(o *Options) { o.RateLimited = rateLimited })
			lim := rate.NewLimiter(rate.Every(time.Hour), 2) // two attempts, then none
			_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x", Limiter: lim})
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr || !IsStatus(err, 429)) {
				t.Fatalf("error %v, want a 429 StatusError %q", err, tt.wantErr)
			}
			if !equalDurations(sl.d, tt.wantSleep) {
				t.Errorf("sleeps = %v, want %v", sl.d, tt.wantSleep)
			}
			if attempts := len(sl.d) + 1; lim.Tokens() > float64(2-attempts)+0.01 {
				t.Errorf("Request.Limiter has %.2f of 2 tokens left after %d attempts", lim.Tokens(), attempts)
			}
		})
	}
}
