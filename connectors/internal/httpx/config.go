package httpx

import (
	"fmt"
	"time"
)

// Common holds the config fields every HTTP connector accepts. Embed it in a
// connector's config struct; encoding/json promotes its fields.
type Common struct {
	// BaseURL overrides the vendor's API root (proxies, tests).
	BaseURL string `json:"base_url,omitempty"`
	// RequestsPerSecond limits the request rate; 0 keeps the connector's default.
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	// Timeout is the per-request timeout as a Go duration ("30s", "2m").
	Timeout string `json:"timeout,omitempty"`
	// MaxRetries is how often a failed request is retried; nil keeps the default.
	MaxRetries *int `json:"max_retries,omitempty"`
}

// Options returns defaults overridden by the fields the user set.
func (c Common) Options(defaults Options) (Options, error) {
	o := defaults
	if c.BaseURL != "" {
		o.BaseURL = c.BaseURL
	}
	if c.RequestsPerSecond < 0 {
		return o, fmt.Errorf("requests_per_second: must not be negative, got %v", c.RequestsPerSecond)
	}
	if c.RequestsPerSecond > 0 {
		o.RequestsPerSecond = c.RequestsPerSecond
	}
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil {
			return o, fmt.Errorf("timeout: %q is not a duration such as \"30s\" or \"2m\"", c.Timeout)
		}
		if d <= 0 {
			return o, fmt.Errorf("timeout: must be positive, got %q", c.Timeout)
		}
		o.Timeout = d
	}
	if c.MaxRetries != nil {
		if *c.MaxRetries < 0 {
			return o, fmt.Errorf("max_retries: must not be negative, got %d", *c.MaxRetries)
		}
		o.MaxAttempts = *c.MaxRetries + 1
	}
	return o, nil
}

// DurationPattern is the JSON Schema pattern of a Go duration.
const DurationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`

// SchemaProperties returns the JSON Schema properties of the Common fields,
// to merge into a connector's config schema.
func SchemaProperties(defaultBaseURL string, defaultRPS float64) map[string]any {
	return map[string]any{
		"base_url": map[string]any{
			"type":        "string",
			"format":      "uri",
			"pattern":     "^https?://",
			"description": fmt.Sprintf("API root URL; defaults to %s. Set it for a proxy or a test server.", defaultBaseURL),
		},
		"requests_per_second": map[string]any{
			"type":             "number",
			"exclusiveMinimum": 0,
			"description":      fmt.Sprintf("Upper bound on the request rate; defaults to %v.", defaultRPS),
		},
		"timeout": map[string]any{
			"type":        "string",
			"pattern":     DurationPattern,
			"description": "Timeout of one HTTP request, including reading its body, as a duration such as \"30s\" or \"2m\"; defaults to 60s.",
		},
		"max_retries": map[string]any{
			"type":        "integer",
			"minimum":     0,
			"maximum":     20,
			"description": "How often a request that failed with 429, a 5xx status or a network error is retried (exponential backoff with jitter, honouring Retry-After); defaults to 5.",
		},
	}
}
