package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/connectors/internal/incremental"
)

const (
	defaultBaseURL = "https://api.hubapi.com"
	// HubSpot allows private apps 100 requests per 10 s; 429s beyond
	// that are retried.
	defaultRPS = 9.0
	// HubSpot allows 4 search requests per second per token, on top of
	// the general limit, and answers more with 429. One every 300 ms
	// leaves room for network jitter, which could otherwise put a fifth
	// into one of HubSpot's seconds.
	searchInterval = 300 * time.Millisecond
	// rateLimitWait is the least wait after a 429 without Retry-After:
	// HubSpot's shortest limit window is a second.
	rateLimitWait = time.Second
)

type config struct {
	Token      string              `json:"token"`
	Properties map[string][]string `json:"properties,omitempty"`
	StartDate  string              `json:"start_date,omitempty"`
	// SearchLookback is a Go duration; nil keeps incremental.DefaultLookback.
	SearchLookback *string `json:"search_lookback,omitempty"`
	httpx.Common
}

// parseConfig decodes strictly and checks what the schema checks, so the
// connector is safe in-process too. Errors never contain the token.
func parseConfig(raw json.RawMessage) (*config, error) {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("hubspot config: %w", err)
	}
	if c.Token == "" {
		return nil, errors.New("hubspot config: token is required (a private-app access token)")
	}
	for obj := range c.Properties {
		if !slices.Contains(objectNames, obj) {
			return nil, fmt.Errorf("hubspot config: properties.%s: unknown object; want one of %v", obj, objectNames)
		}
	}
	if _, err := c.startDate(); err != nil {
		return nil, err
	}
	if _, err := c.lookback(); err != nil {
		return nil, err
	}
	return &c, nil
}

// lookback returns search_lookback in milliseconds.
func (c *config) lookback() (int64, error) {
	d, err := incremental.Lookback(c.SearchLookback)
	if err != nil {
		return 0, fmt.Errorf("hubspot config: %w", err)
	}
	return d.Milliseconds(), nil
}

// startDate returns start_date in Unix milliseconds, 0 when unset.
func (c *config) startDate() (int64, error) {
	if c.StartDate == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, c.StartDate); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, fmt.Errorf("hubspot config: start_date %q: want a date (2024-01-31) or an RFC 3339 time (2024-01-31T08:00:00Z)", c.StartDate)
}

func (c *config) client(sleep func(context.Context, time.Duration) error) (*httpx.Client, error) {
	o, err := c.Common.Options(httpx.Options{
		Name:              "hubspot",
		BaseURL:           defaultBaseURL,
		RequestsPerSecond: defaultRPS,
		Auth:              httpx.Bearer(c.Token),
		Sleep:             sleep,
		RateLimited:       rateLimited,
		AuthHint:          "check the token: it must be a valid private-app access token with the crm.objects.contacts.read, crm.objects.companies.read and crm.objects.deals.read scopes",
	})
	if err != nil {
		return nil, fmt.Errorf("hubspot config: %w", err)
	}
	return httpx.New(o)
}

// rateLimited reads HubSpot's 429 body, whose policyName says which limit
// was hit: retrying before tomorrow is pointless once the daily one is.
func rateLimited(resp *httpx.Response) (time.Duration, error) {
	var body struct {
		PolicyName string `json:"policyName"`
	}
	_ = json.Unmarshal(resp.Body, &body) // no policy: wait as for a short one
	if body.PolicyName == "DAILY" {
		return 0, errors.New("429 Too Many Requests: the HubSpot account's daily API request limit is used up (policy DAILY); it resets at midnight in the account's time zone, run the sync again after that")
	}
	return rateLimitWait, nil
}

var configSchema = func() json.RawMessage {
	props := httpx.SchemaProperties(defaultBaseURL, defaultRPS)
	props["requests_per_second"].(map[string]any)["description"] = fmt.Sprintf(
		"Upper bound on the request rate; defaults to %v. Search requests are also kept under HubSpot's search limit of 4 per second.", defaultRPS)
	props["token"] = map[string]any{
		"type":        "string",
		"minLength":   1,
		"description": "Access token of a HubSpot private app, sent as a Bearer token. It needs the read scopes of contacts, companies and deals. Use \"${HUBSPOT_TOKEN}\" rather than the token itself.",
	}
	objProps := map[string]any{}
	for _, o := range objectNames {
		objProps[o] = map[string]any{
			"type":        "array",
			"items":       map[string]any{"type": "string", "minLength": 1},
			"uniqueItems": true,
			"description": fmt.Sprintf("Extra %s properties to read, added to the defaults (%v).", o, defaultProperties[o]),
		}
	}
	props["properties"] = map[string]any{
		"type":                 "object",
		"description":          "Extra HubSpot properties to read per object (internal names such as \"lifecyclestage\"). They appear under properties in the records.",
		"properties":           objProps,
		"additionalProperties": false,
	}
	props["start_date"] = map[string]any{
		"type":        "string",
		"pattern":     `^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$`,
		"description": "Read only contacts, companies and deals modified on or after this date (2024-01-31 or 2024-01-31T08:00:00Z). Unset: the first read lists every record.",
	}
	props["search_lookback"] = incremental.LookbackSchema("HubSpot")
	b, err := json.Marshal(map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "hubspot",
		"description":          "HubSpot CRM (API v3): contacts, companies, deals and their associations.",
		"type":                 "object",
		"required":             []string{"token"},
		"properties":           props,
		"additionalProperties": false,
	})
	if err != nil {
		panic(err)
	}
	return b
}()
