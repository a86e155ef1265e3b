// Package httpx is the HTTP client every HTTP connector (hubspot, shopify,
// zendesk) uses, so that timeouts, retries, rate limiting, auth and error
// wording behave the same everywhere.
//
// Usage:
//
//	type config struct {
//		Token string `json:"token"`
//		httpx.Common        // base_url, requests_per_second, timeout, max_retries
//	}
//
//	opts, err := cfg.Common.Options(httpx.Options{
//		Name:              "hubspot",              // prefix of every error
//		BaseURL:           "https://api.hubapi.com", // default; base_url overrides
//		RequestsPerSecond: 10,                      // default; requests_per_second overrides
//		Auth:              httpx.Bearer(cfg.Token),
//		AuthHint:          "check the token",
//	})
//	c, err := httpx.New(opts)
//	var page listPage
//	_, err = c.GetJSON(ctx, "/crm/v3/objects/contacts", url.Values{"limit": {"100"}}, &page)
//
// Behaviour:
//   - Each attempt has its own timeout (Options.Timeout, default 60s), which
//     covers reading the body.
//   - 429, 5xx and transport errors are retried up to MaxAttempts in total
//     (default 6, i.e. max_retries 5) with exponential backoff and full
//     jitter; a Retry-After header (seconds or HTTP date) replaces the
//     backoff, capped at MaxRetryAfter. Options.RateLimited may ask for a
//     longer wait after a 429 without Retry-After, or give up at once
//     (a daily quota used up). All methods are retried: connectors
//     only read (HubSpot's search is a POST that changes nothing).
//   - Other statuses are not retried and come back as *StatusError.
//   - Every attempt first waits for the requests-per-second limiter, then
//     for Request.Limiter if set (an endpoint's own, lower limit).
//   - Every wait honours ctx; Options.Sleep replaces the real wait in tests.
//   - Errors read "NAME: METHOD /path: 401 Unauthorized: HINT" and never
//     contain a secret: the Auth credentials and Options.Secrets are
//     replaced by [REDACTED] in errors, logs and body excerpts. Query
//     strings are left out of errors.
//   - A path may also be an absolute URL (a "next page" link) on the
//     base URL's host; a URL on another host is refused, and so is a
//     redirect to another scheme or host (not retried), so credentials
//     never go to a host the user did not configure.
package httpx
