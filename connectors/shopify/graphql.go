package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/plugins/connector"
)

// gqlClient sends GraphQL queries and keeps within Shopify's calculated
// query cost limit: it remembers the bucket Shopify reports after each
// query and waits for it to refill before a query that would not fit, and
// it retries a query Shopify throttled anyway or failed with an internal
// error.
type gqlClient struct {
	http       *httpx.Client
	path       string
	sleep      func(context.Context, time.Duration) error
	now        func() time.Time
	maxRetries int

	bucket   *throttleStatus // last reported; nil before the first query
	bucketAt time.Time
	// served is the server's time (the Date header, whole seconds) of the
	// last response; zero when it sent none.
	served time.Time
}

// throttleStatus is extensions.cost.throttleStatus.
type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

type queryCost struct {
	RequestedQueryCost float64         `json:"requestedQueryCost"`
	ActualQueryCost    *float64        `json:"actualQueryCost"`
	ThrottleStatus     *throttleStatus `json:"throttleStatus"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions struct {
		Cost *queryCost `json:"cost"`
	} `json:"extensions"`
}

// errMaxCost is a query Shopify refuses as too expensive to ever run.
var errMaxCost = errors.New("query cost exceeds Shopify's single-query maximum")

// query runs one GraphQL query. expectedCost is what the query is likely
// to be charged before it runs (its last requestedQueryCost; 0 when not
// known yet); query returns the requested cost of this run.
func (c *gqlClient) query(ctx context.Context, what, q string, vars map[string]any, expectedCost float64, out any) (float64, error) {
	for attempt := 0; ; attempt++ {
		if err := c.waitFor(ctx, what, expectedCost); err != nil {
			return 0, err
		}
		resp, err := c.http.Do(ctx, httpx.Request{Method: "POST", Path: c.path, Body: map[string]any{"query": q, "variables": vars}})
		if err != nil {
			return 0, fmt.Errorf("%w (reading %s)", err, what)
		}
		c.served, _ = http.ParseTime(resp.Header.Get("Date"))
		var r gqlResponse
		if err := resp.JSON(&r); err != nil {
			return 0, fmt.Errorf("%w (reading %s)", err, what)
		}
		cost := c.record(r.Extensions.Cost)
		if cost > 0 {
			expectedCost = cost
		}
		if len(r.Errors) == 0 {
			if len(r.Data) == 0 || string(r.Data) == "null" {
				return cost, fmt.Errorf("shopify: %s: the response has no data and no errors", what)
			}
			if err := json.Unmarshal(r.Data, out); err != nil {
				return cost, fmt.Errorf("shopify: %s: unexpected response shape: %w", what, err)
			}
			return cost, nil
		}
		switch codeOf(r.Errors) {
		case "THROTTLED":
			if attempt >= c.maxRetries {
				return cost, fmt.Errorf("shopify: %s: still throttled after %d attempts; lower requests_per_second or run when the store is less busy", what, attempt+1)
			}
			connector.Log(ctx).Warn("shopify: query throttled; waiting for the cost bucket to refill", "query", what, "attempt", attempt+1)
			if c.bucket == nil { // no cost data: back off blindly
				if err := c.sleep(ctx, time.Duration(1<<min(attempt, 5))*time.Second); err != nil {
					return 0, err
				}
			}
		case "INTERNAL_SERVER_ERROR":
			// Shopify reports most of its 500s this way, in a 200: retry
			// it as httpx retries a 5xx.
			if attempt >= c.maxRetries {
				return cost, fmt.Errorf("shopify: %s: GraphQL errors: %s after %d attempts", what, messages(r.Errors), attempt+1)
			}
			wait := c.http.Backoff(attempt + 1)
			connector.Log(ctx).Warn("shopify: internal error; retrying", "query", what, "attempt", attempt+1, "wait", wait.String())
			if err := c.sleep(ctx, wait); err != nil {
				return 0, fmt.Errorf("shopify: %s: cancelled while waiting to retry: %w", what, err)
			}
		case "MAX_COST_EXCEEDED":
			return cost, fmt.Errorf("shopify: %s: %w: %s", what, errMaxCost, messages(r.Errors))
		default:
			return cost, fmt.Errorf("shopify: %s: GraphQL errors: %s", what, messages(r.Errors))
		}
	}
}

// record keeps the bucket a response reported and returns its requested
// cost.
func (c *gqlClient) record(cost *queryCost) float64 {
	if cost == nil {
		return 0
	}
	if ts := cost.ThrottleStatus; ts != nil && ts.RestoreRate > 0 {
		b := *ts
		c.bucket, c.bucketAt = &b, c.now()
	}
	return cost.RequestedQueryCost
}

// waitFor sleeps until the bucket, refilled at restoreRate since it was
// reported, holds cost points. Shopify reserves the requested cost before
// running a query, so a query that does not fit would be throttled.
func (c *gqlClient) waitFor(ctx context.Context, what string, cost float64) error {
	b := c.bucket
	if b == nil || cost <= 0 {
		return nil
	}
	if cost > b.MaximumAvailable {
		return fmt.Errorf("shopify: %s: %w: it requests %.0f points, the bucket holds %.0f", what, errMaxCost, cost, b.MaximumAvailable)
	}
	elapsed := c.now().Sub(c.bucketAt).Seconds()
	available := min(b.MaximumAvailable, b.CurrentlyAvailable+max(0, elapsed)*b.RestoreRate)
	if available >= cost {
		return nil
	}
	// Rounded up to the millisecond: waiting a hair too short would be
	// throttled.
	wait := time.Duration(math.Ceil((cost-available)/b.RestoreRate*1000)) * time.Millisecond
	connector.Log(ctx).Info("shopify: waiting for the query cost bucket to refill",
		"query", what, "cost", cost, "available", available, "wait", wait.String())
	if err := c.sleep(ctx, wait); err != nil {
		return fmt.Errorf("shopify: %s: cancelled while waiting for the cost bucket: %w", what, err)
	}
	// The bucket is assumed full enough now; the next response corrects it.
	c.bucket = &throttleStatus{MaximumAvailable: b.MaximumAvailable, CurrentlyAvailable: cost, RestoreRate: b.RestoreRate}
	c.bucketAt = c.now()
	return nil
}

func codeOf(errs []gqlError) string {
	for _, e := range errs {
		switch e.Extensions.Code {
		case "THROTTLED", "MAX_COST_EXCEEDED", "INTERNAL_SERVER_ERROR":
			return e.Extensions.Code
		}
	}
	return ""
}

func messages(errs []gqlError) string {
	var parts []string
	for i, e := range errs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-3))
			break
		}
		m := e.Message
		if e.Extensions.Code != "" {
			m += " (" + e.Extensions.Code + ")"
		}
		parts = append(parts, m)
	}
	return strings.Join(parts, "; ")
}
