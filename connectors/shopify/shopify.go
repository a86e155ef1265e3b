package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/connectors/internal/incremental"
	"github.com/desilo/desilo/plugins/connector"
)

const (
	defaultAPIVersion = "2025-10"
	defaultRPS        = 4
)

// Source is the shopify connector.
type Source struct {
	// sleep and now replace real waiting and the clock in tests.
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
}

// New returns the shopify connector.
func New() *Source { return &Source{} }

var _ connector.Connector = (*Source)(nil)

type config struct {
	Shop       string `json:"shop,omitempty"`
	Token      string `json:"token"`
	APIVersion string `json:"api_version,omitempty"`
	StartDate  string `json:"start_date,omitempty"`
	// SearchLookback is a Go duration; nil keeps incremental.DefaultLookback.
	SearchLookback *string `json:"search_lookback,omitempty"`
	httpx.Common

	startDate time.Time
	lookback  time.Duration
}

var (
	shopRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	apiVersionRE = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)
)

func configSchema() json.RawMessage {
	props := httpx.SchemaProperties("https://SHOP.myshopify.com", defaultRPS)
	props["shop"] = map[string]any{
		"type":        "string",
		"pattern":     `^[a-z0-9][a-z0-9-]*(\.myshopify\.com)?$`,
		"description": "The store's myshopify subdomain: acme-store for acme-store.myshopify.com. Give shop or base_url.",
	}
	props["token"] = map[string]any{
		"type":        "string",
		"minLength":   1,
		"writeOnly":   true,
		"description": "Admin API access token (shpat_...), sent as X-Shopify-Access-Token; needs the read_customers and read_orders scopes (orders older than 60 days need read_all_orders). A secret: never logged.",
	}
	props["api_version"] = map[string]any{
		"type":        "string",
		"pattern":     `^(\d{4}-\d{2}|unstable)$`,
		"description": "GraphQL Admin API version, e.g. 2025-10 (the default).",
	}
	props["start_date"] = map[string]any{
		"type":        "string",
		"description": "On the first read, only records updated at or after this date (2024-01-31) or time (RFC 3339). Later reads continue from the saved state.",
	}
	props["search_lookback"] = incremental.LookbackSchema("Shopify")
	b, _ := json.Marshal(map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "shopify connector config",
		"description":          "Reads customers, orders and refunds through the Shopify GraphQL Admin API, incrementally by updated_at, within Shopify's query cost limits.",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"token"},
		"anyOf":                []any{map[string]any{"required": []string{"shop"}}, map[string]any{"required": []string{"base_url"}}},
		"properties":           props,
	})
	return b
}

func parseConfig(raw json.RawMessage) (*config, error) {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("shopify config: %w", err)
	}
	c.Shop = strings.TrimSuffix(c.Shop, ".myshopify.com")
	switch {
	case c.Token == "":
		return nil, errors.New("shopify config: token is required")
	case c.Shop == "" && c.BaseURL == "":
		return nil, errors.New("shopify config: give shop (the myshopify subdomain) or base_url")
	case c.Shop != "" && !shopRE.MatchString(c.Shop):
		return nil, fmt.Errorf("shopify config: shop %q: want the myshopify subdomain, e.g. acme-store", c.Shop)
	}
	if c.APIVersion == "" {
		c.APIVersion = defaultAPIVersion
	}
	if !apiVersionRE.MatchString(c.APIVersion) {
		return nil, fmt.Errorf("shopify config: api_version %q: want YYYY-MM such as %s", c.APIVersion, defaultAPIVersion)
	}
	if c.StartDate != "" {
		t, err := time.Parse(time.RFC3339, c.StartDate)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, c.StartDate); err != nil {
				return nil, fmt.Errorf("shopify config: start_date %q: want a date (2024-01-31) or an RFC 3339 time", c.StartDate)
			}
		}
		c.startDate = t.UTC()
	}
	d, err := incremental.Lookback(c.SearchLookback)
	if err != nil {
		return nil, fmt.Errorf("shopify config: %w", err)
	}
	c.lookback = d
	return &c, nil
}

// client builds the GraphQL client for a config.
func (s *Source) client(c *config) (*gqlClient, error) {
	base := c.BaseURL
	if base == "" {
		base = "https://" + c.Shop + ".myshopify.com"
	}
	opts, err := c.Common.Options(httpx.Options{
		Name:              "shopify",
		BaseURL:           base,
		RequestsPerSecond: defaultRPS,
		Auth:              httpx.HeaderAuth("X-Shopify-Access-Token", c.Token),
		AuthHint:          "check the Admin API access token and that the app is installed on the store",
		Sleep:             s.sleep,
	})
	if err != nil {
		return nil, fmt.Errorf("shopify config: %w", err)
	}
	h, err := httpx.New(opts)
	if err != nil {
		return nil, err
	}
	g := &gqlClient{http: h, path: "/admin/api/" + c.APIVersion + "/graphql.json", sleep: s.sleep, now: s.now, maxRetries: httpx.DefaultMaxAttempts - 1}
	if c.MaxRetries != nil {
		g.maxRetries = *c.MaxRetries
	}
	if g.sleep == nil {
		g.sleep = httpx.Sleep
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g, nil
}

// Spec implements connector.Connector.
func (s *Source) Spec() connector.Spec {
	return connector.Spec{
		Name:            "shopify",
		Version:         "0.1.0",
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "Shopify customers, orders and refunds through the GraphQL Admin API.",
		ConfigSchema:    configSchema(),
	}
}

// Check implements connector.Connector: it asks for the shop's name, which
// needs a valid token, and one customer and one order, which need the
// read scopes.
func (s *Source) Check(ctx context.Context, raw json.RawMessage) error {
	c, err := parseConfig(raw)
	if err != nil {
		return err
	}
	g, err := s.client(c)
	if err != nil {
		return err
	}
	var out json.RawMessage
	_, err = g.query(ctx, "the shop, a customer and an order", `query desilo_check { shop { name } customers(first: 1) { nodes { id } } orders(first: 1) { nodes { id } } }`, nil, 0, &out)
	return err
}

// Discover implements connector.Connector. The streams are fixed.
func (s *Source) Discover(ctx context.Context, raw json.RawMessage) ([]connector.Stream, error) {
	if _, err := parseConfig(raw); err != nil {
		return nil, err
	}
	out := make([]connector.Stream, len(streamDefs))
	for i := range streamDefs {
		out[i] = streamDefs[i].stream()
	}
	return out, nil
}

// Read implements connector.Connector.
func (s *Source) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	c, err := parseConfig(req.Config)
	if err != nil {
		return err
	}
	g, err := s.client(c)
	if err != nil {
		return err
	}
	st, err := decodeState(req.State)
	if err != nil {
		return err
	}
	for _, name := range req.Streams {
		if !slices.ContainsFunc(streamDefs, func(d streamDef) bool { return d.name == name }) {
			return fmt.Errorf("shopify: no stream %q; the streams are customers, orders and refunds", name)
		}
	}
	for i := range streamDefs {
		d := &streamDefs[i]
		if len(req.Streams) > 0 && !slices.Contains(req.Streams, d.name) {
			continue
		}
		r := &streamReader{def: d, g: g, st: st, out: out, start: c.startDate, lookback: c.lookback}
		if err := r.read(ctx); err != nil {
			return err
		}
	}
	return nil
}
