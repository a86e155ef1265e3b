// Package hubspot is the HubSpot CRM connector (API v3): contacts,
// companies and deals, read incrementally, and their associations.
//
// Reads, per object stream:
//   - The first read lists every record (GET /crm/v3/objects/{object},
//     paged by "after"), unless start_date is set. Records modified after
//     the listing started are remembered, so the following search neither
//     misses a change on a page already read nor emits one twice.
//   - Later reads search (POST /crm/v3/objects/{object}/search) for records
//     modified on or after the saved time less search_lookback (default 10
//     minutes), oldest first. The search index lists a change some time
//     after it was made, so one search can return a later change and not
//     yet an earlier one; the next run's look-back reads the earlier one.
//     The ids emitted in the look-back window are kept in the state (up to
//     maxSeen), so ties and late changes are neither lost nor repeated.
//     The search API returns at most 10,000 results per query; before
//     reaching that, a new query starts from the last modification time
//     it returned. When all of a query's results share one time, the
//     records of that time are paged through by id (hs_object_id) first.
//   - Archived records (listing with archived=true) are emitted as deleted
//     records, each once.
//
// Association streams list the "from" records and batch-read their
// associations (POST /crm/v4/associations/{from}/{to}/batch/read). They are
// full-refresh streams: an association removed in HubSpot is not reported.
//
// Rate limits: requests_per_second (default 9) bounds all requests, and
// search requests are also spaced 300 ms apart, under HubSpot's search
// limit of 4 per second. A 429 without Retry-After is retried after at
// least a second; one saying the daily limit is used up (policyName
// DAILY) ends the read at once.
//
// A checkpoint follows every page.
package hubspot

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/desilo/desilo/connectors/internal/httpx"
	"github.com/desilo/desilo/plugins/connector"
)

// Source is the hubspot connector.
type Source struct {
	// sleep replaces the retry waits in tests; nil waits for real.
	sleep func(context.Context, time.Duration) error
	// searchEvery is the least time between two search requests; zero
	// means searchInterval. Tests shorten it.
	searchEvery time.Duration
}

// New returns the hubspot connector.
func New() *Source { return &Source{} }

var _ connector.Connector = (*Source)(nil)

// Spec implements connector.Connector.
func (*Source) Spec() connector.Spec {
	return connector.Spec{
		Name:            "hubspot",
		Version:         "0.1.0",
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "HubSpot CRM: contacts, companies, deals (incremental) and their associations.",
		ConfigSchema:    configSchema,
	}
}

// Check lists one contact: it proves the token and the contacts scope.
func (s *Source) Check(ctx context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	c, err := cfg.client(s.sleep)
	if err != nil {
		return err
	}
	var page listPage
	_, err = c.GetJSON(ctx, "/crm/v3/objects/contacts", url.Values{"limit": {"1"}}, &page)
	return err
}

// Discover implements connector.Connector. The streams are fixed, so it
// only checks the config.
func (*Source) Discover(ctx context.Context, raw json.RawMessage) ([]connector.Stream, error) {
	if _, err := parseConfig(raw); err != nil {
		return nil, err
	}
	return streams(), nil
}

// state is the checkpoint of the whole source.
type state struct {
	Objects map[string]*objectState `json:"objects,omitempty"`
	// Assocs holds the "after" cursor of an association pass in progress.
	Assocs map[string]string `json:"associations,omitempty"`
}

// reader is one Read in progress.
type reader struct {
	cfg       *config
	c         *httpx.Client
	searchLim *rate.Limiter // search requests, besides c's own limiter
	out       connector.Emitter
	st        state
	start     int64 // start_date in ms, 0 when unset
	lookback  int64 // search_lookback in ms
}

// Read implements connector.Connector.
func (s *Source) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return err
	}
	c, err := cfg.client(s.sleep)
	if err != nil {
		return err
	}
	r := &reader{cfg: cfg, c: c, out: out, searchLim: rate.NewLimiter(rate.Every(cmp.Or(s.searchEvery, searchInterval)), 1)}
	r.start, _ = cfg.startDate() // checked by parseConfig
	r.lookback, _ = cfg.lookback()
	if len(req.State) > 0 {
		if err := json.Unmarshal(req.State, &r.st); err != nil {
			return fmt.Errorf("hubspot: saved state is not valid: %w (reset the source's state to read in full)", err)
		}
	}
	if r.st.Objects == nil {
		r.st.Objects = map[string]*objectState{}
	}
	if r.st.Assocs == nil {
		r.st.Assocs = map[string]string{}
	}
	want := func(name string) bool { return len(req.Streams) == 0 || slices.Contains(req.Streams, name) }
	for _, name := range req.Streams {
		if !slices.Contains(objectNames, name) && !slices.ContainsFunc(assocStreams, func(a assocStream) bool { return a.name == name }) {
			return fmt.Errorf("hubspot: unknown stream %q", name)
		}
	}
	for _, name := range objectNames {
		if want(name) {
			if err := r.readObject(ctx, name); err != nil {
				return err
			}
		}
	}
	for _, a := range assocStreams {
		if want(a.name) {
			if err := r.readAssoc(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *reader) checkpoint(ctx context.Context) error {
	b, err := json.Marshal(r.st)
	if err != nil {
		return fmt.Errorf("hubspot: encoding state: %w", err)
	}
	return r.out.Checkpoint(ctx, b)
}

func (r *reader) properties(object string) []string {
	p := slices.Clone(defaultProperties[object])
	for _, extra := range r.cfg.Properties[object] {
		if !slices.Contains(p, extra) {
			p = append(p, extra)
		}
	}
	return p
}
