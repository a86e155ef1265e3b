package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/desilo/desilo/plugins/connector"
)

// Newsletter reads subscribers from a JSON Lines export. Reads are
// incremental by changed_at: the state keeps the latest changed_at
// delivered and the ids delivered at exactly that time, so records that
// share it are neither lost nor sent twice.
type Newsletter struct{}

var _ connector.Connector = (*Newsletter)(nil)

type config struct {
	Path string `json:"path"`
}

type subscriber struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name,omitempty"`
	Status    string    `json:"status"`
	ChangedAt time.Time `json:"changed_at"`
}

type state struct {
	ChangedAt time.Time `json:"changed_at"`
	IDs       []string  `json:"ids_at_changed_at"`
}

const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["path"],
  "properties": {
    "path": {"type": "string", "minLength": 1, "description": "The subscriber export: a JSON Lines file, one subscriber per line."}
  }
}`

const recordSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["id", "email", "status", "changed_at"],
  "properties": {
    "id": {"type": "string"},
    "email": {"type": "string"},
    "name": {"type": "string"},
    "status": {"enum": ["subscribed", "unsubscribed", "cleaned", "pending"]},
    "changed_at": {"type": "string", "format": "date-time"}
  }
}`

// checkpointEvery is how many records go between two checkpoints.
const checkpointEvery = 500

func (*Newsletter) Spec() connector.Spec {
	return connector.Spec{
		Name:            "newsletter",
		Version:         "1.0.0",
		ProtocolVersion: connector.ProtocolVersion,
		Description:     "Newsletter subscribers from a JSON Lines export (an example third-party connector).",
		ConfigSchema:    json.RawMessage(configSchema),
	}
}

func (*Newsletter) Check(ctx context.Context, raw json.RawMessage) error {
	cfg, err := parseConfig(raw)
	if err != nil {
		return err
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return fmt.Errorf("subscriber export: %w", err)
	}
	return f.Close()
}

func (*Newsletter) Discover(ctx context.Context, raw json.RawMessage) ([]connector.Stream, error) {
	if _, err := parseConfig(raw); err != nil {
		return nil, err
	}
	return []connector.Stream{{
		Name:        "subscribers",
		Description: "One row per subscriber and list.",
		Schema:      json.RawMessage(recordSchema),
		PrimaryKey:  []string{"id"},
		CursorField: "changed_at",
		Mapping: &connector.Mapping{
			Entity: "customer",
			Fields: map[string]connector.Expr{
				"email":         connector.P("email"),
				"full_name":     connector.P("name"),
				"consent_email": {Path: "status", Values: map[string]string{"subscribed": "true", "unsubscribed": "false", "cleaned": "false", "pending": "false"}, Type: "boolean"},
				"updated_at":    connector.P("changed_at"),
			},
		},
	}}, nil
}

func (*Newsletter) Read(ctx context.Context, req connector.ReadRequest, out connector.Emitter) error {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return err
	}
	var st state
	if len(req.State) > 0 {
		if err := json.Unmarshal(req.State, &st); err != nil {
			return fmt.Errorf("saved state: %w", err)
		}
	}
	subs, err := load(ctx, cfg.Path, out)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(st.IDs))
	for _, id := range st.IDs {
		seen[id] = true
	}
	n := 0
	for _, s := range subs {
		if s.ChangedAt.Before(st.ChangedAt) || (s.ChangedAt.Equal(st.ChangedAt) && seen[s.ID]) {
			continue
		}
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := out.Emit(ctx, connector.Record{Stream: "subscribers", Data: data}); err != nil {
			return err
		}
		if !s.ChangedAt.Equal(st.ChangedAt) {
			st = state{ChangedAt: s.ChangedAt}
		}
		st.IDs = append(st.IDs, s.ID)
		if n++; n%checkpointEvery == 0 {
			if err := checkpoint(ctx, out, st); err != nil {
				return err
			}
		}
	}
	return checkpoint(ctx, out, st)
}

func checkpoint(ctx context.Context, out connector.Emitter, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return out.Checkpoint(ctx, b)
}

// load reads the export sorted by (changed_at, id), the order incremental
// reads need. Lines that are not a valid subscriber are rejected, not dropped.
func load(ctx context.Context, path string, out connector.Emitter) ([]subscriber, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("subscriber export: %w", err)
	}
	defer f.Close()
	var subs []subscriber
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s subscriber
		err := json.Unmarshal(sc.Bytes(), &s)
		if err == nil && (s.ID == "" || s.Email == "" || s.ChangedAt.IsZero()) {
			err = errors.New("id, email and changed_at are required")
		}
		if err == nil && !slices.Contains([]string{"subscribed", "unsubscribed", "cleaned", "pending"}, s.Status) {
			err = fmt.Errorf("unknown status %q", s.Status)
		}
		if err != nil {
			rej := connector.Reject{Stream: "subscribers", Location: fmt.Sprintf("%s:%d", path, line), Reason: err.Error(), Raw: sc.Bytes()}
			if err := out.Reject(ctx, rej); err != nil {
				return nil, err
			}
			continue
		}
		subs = append(subs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	slices.SortFunc(subs, func(a, b subscriber) int {
		return cmp.Or(a.ChangedAt.Compare(b.ChangedAt), cmp.Compare(a.ID, b.ID))
	})
	return subs, nil
}

func parseConfig(raw json.RawMessage) (config, error) {
	var c config
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if c.Path == "" {
		return c, errors.New("config: path is required")
	}
	return c, nil
}
