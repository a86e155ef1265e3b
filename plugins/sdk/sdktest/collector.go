package sdktest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/desilo/desilo/plugins/connector"
)

// Collector is an in-memory connector.Emitter for tests: it keeps what a
// Read emits, in order.
type Collector struct {
	mu          sync.Mutex
	Records     []connector.Record
	Rejects     []connector.Reject
	Checkpoints []json.RawMessage
	// OnEmit, when set, runs before each record is kept; an error it
	// returns is returned to the connector (to simulate a failing host).
	OnEmit func(connector.Record) error

	delivered int // len(Records) at the last checkpoint
}

var _ connector.Emitter = (*Collector)(nil)

// StopAfter returns a Collector whose Emit fails with err once it has kept
// n records: a host that goes away in the middle of a Read, for tests
// that resume from the checkpoints it got.
func StopAfter(n int, err error) *Collector {
	c := &Collector{}
	c.OnEmit = func(connector.Record) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.Records) >= n {
			return err
		}
		return nil
	}
	return c
}

func (c *Collector) Emit(ctx context.Context, r connector.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.OnEmit != nil {
		if err := c.OnEmit(r); err != nil {
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Data = append(json.RawMessage(nil), r.Data...) // the connector may reuse its buffer
	c.Records = append(c.Records, r)
	return nil
}

func (c *Collector) Reject(ctx context.Context, r connector.Reject) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Raw = append([]byte(nil), r.Raw...) // the connector may reuse its buffer
	c.Rejects = append(c.Rejects, r)
	return nil
}

func (c *Collector) Checkpoint(ctx context.Context, state json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Checkpoints = append(c.Checkpoints, append(json.RawMessage(nil), state...))
	c.delivered = len(c.Records)
	return nil
}

// Delivered returns the records emitted before the last checkpoint: those
// a Read from State() must not emit again.
func (c *Collector) Delivered() []connector.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Records[:c.delivered:c.delivered]
}

// State returns the last checkpoint, or nil when there was none.
func (c *Collector) State() json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.Checkpoints) == 0 {
		return nil
	}
	return c.Checkpoints[len(c.Checkpoints)-1]
}

// Stream returns the records of one stream.
func (c *Collector) Stream(name string) []connector.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []connector.Record
	for _, r := range c.Records {
		if r.Stream == name {
			out = append(out, r)
		}
	}
	return out
}
