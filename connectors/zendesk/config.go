package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
)

// Zendesk allows 10 requests per minute to the incremental export
// endpoints; the limiter stays below that so 429s stay rare.
const defaultRPS = 0.16

var subdomainRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

type config struct {
	Subdomain string `json:"subdomain,omitempty"`
	Email     string `json:"email"`
	APIToken  string `json:"api_token"`
	StartTime string `json:"start_time,omitempty"`
	httpx.Common
}

// parseConfig decodes strictly and checks what the schema checks, so the
// connector is safe in-process too. Errors never contain the API token.
func parseConfig(raw json.RawMessage) (*config, error) {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("zendesk config: %w", err)
	}
	switch {
	case c.Subdomain == "" && c.BaseURL == "":
		return nil, errors.New("zendesk config: subdomain is required (\"acme\" for acme.zendesk.com), or base_url")
	case c.Subdomain != "" && !subdomainRE.MatchString(c.Subdomain):
		return nil, fmt.Errorf("zendesk config: subdomain %q: want the name before .zendesk.com, such as \"acme\"", c.Subdomain)
	case c.Email == "":
		return nil, errors.New("zendesk config: email is required (the agent the API token belongs to)")
	case c.APIToken == "":
		return nil, errors.New("zendesk config: api_token is required")
	}
	if _, err := c.startTime(); err != nil {
		return nil, err
	}
	return &c, nil
}

// startTime returns start_time in Unix seconds, 0 when unset.
func (c *config) startTime() (int64, error) {
	if c.StartTime == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(c.StartTime, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, c.StartTime); err == nil {
			return max(0, t.Unix()), nil
		}
	}
	return 0, fmt.Errorf("zendesk config: start_time %q: want a date (2024-01-31), an RFC 3339 time or Unix seconds", c.StartTime)
}

func (c *config) client(sleep func(context.Context, time.Duration) error) (*httpx.Client, error) {
	base := "https://" + c.Subdomain + ".zendesk.com"
	o, err := c.Common.Options(httpx.Options{
		Name:              "zendesk",
		BaseURL:           base,
		RequestsPerSecond: defaultRPS,
		Auth:              httpx.Basic(c.Email+"/token", c.APIToken),
		AuthHint:          "check email and api_token (an API token of an admin, from Admin Center > Apps and integrations > Zendesk API)",
		Sleep:             sleep,
	})
	if err != nil {
		return nil, fmt.Errorf("zendesk config: %w", err)
	}
	return httpx.New(o)
}

var configSchema = func() json.RawMessage {
	props := httpx.SchemaProperties("https://{subdomain}.zendesk.com", defaultRPS)
	props["subdomain"] = map[string]any{
		"type":        "string",
		"pattern":     subdomainRE.String(),
		"description": "Zendesk subdomain: \"acme\" for acme.zendesk.com. Required unless base_url is set.",
	}
	props["email"] = map[string]any{
		"type":        "string",
		"minLength":   1,
		"description": "Email address of the admin the API token belongs to.",
	}
	props["api_token"] = map[string]any{
		"type":        "string",
		"minLength":   1,
		"description": "Zendesk API token, sent as Basic auth {email}/token:{api_token}. Use \"${ZENDESK_API_TOKEN}\" rather than the token itself.",
	}
	props["start_time"] = map[string]any{
		"type":        "string",
		"pattern":     `^(\d+|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)$`,
		"description": "Export items changed on or after this time on the first read: a date (2024-01-31), an RFC 3339 time or Unix seconds. Defaults to the beginning.",
	}
	b, err := json.Marshal(map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "zendesk",
		"description":          "Zendesk Support: users, organizations, tickets and comment metadata, through the incremental export API.",
		"type":                 "object",
		"required":             []string{"email", "api_token"},
		"anyOf":                []any{map[string]any{"required": []string{"subdomain"}}, map[string]any{"required": []string{"base_url"}}},
		"properties":           props,
		"additionalProperties": false,
	})
	if err != nil {
		panic(err)
	}
	return b
}()
