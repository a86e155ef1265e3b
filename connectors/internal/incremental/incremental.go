// Package incremental holds what connectors that read a vendor's search
// API by modification time share: the look-back window that catches
// changes the search index lists late, and the bounded set of records
// delivered in that window, which a read skips so that a record is not
// emitted again unchanged.
package incremental

import (
	"fmt"
	"sort"
	"time"

	"github.com/desilo/desilo/connectors/internal/httpx"
)

// DefaultLookback is how far before the newest modification time already
// read an incremental search starts. A search index lists a change some
// time after it was made, so a search can return a later change before an
// earlier one; starting earlier reads such late changes.
const DefaultLookback = 10 * time.Minute

// Lookback parses a search_lookback setting: a duration such as "10m";
// nil gives DefaultLookback and "0s" turns it off.
func Lookback(v *string) (time.Duration, error) {
	if v == nil {
		return DefaultLookback, nil
	}
	d, err := time.ParseDuration(*v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("search_lookback %q: want a duration such as \"10m\" or \"1h\" (\"0s\" turns it off)", *v)
	}
	return d, nil
}

// LookbackSchema is the JSON Schema of search_lookback for vendor's
// connector.
func LookbackSchema(vendor string) map[string]any {
	return map[string]any{
		"type":    "string",
		"pattern": httpx.DurationPattern,
		"default": "10m",
		"description": "How far before the newest modification time already read an incremental read searches, as a duration such as \"10m\"; \"0s\" turns it off. " +
			vendor + "'s search index lists a change some time after it was made, so a search can return a later change before an earlier one; the look-back reads such late changes on the next run. " +
			fmt.Sprintf("Records already delivered in the window are remembered and not emitted again (up to %d of them; beyond that the oldest are read again, which staging absorbs).", MaxSeen),
	}
}

// MaxSeen bounds the records a Seen keeps (a var for tests). Past it, the
// oldest are dropped: the next search emits those records again, which
// staging absorbs (one version per key), rather than the state growing
// with every record of a bulk update.
var MaxSeen = 10000

// Seen maps the id of a record delivered in the look-back window to its
// modification time, in the connector's unit.
type Seen map[string]int64

// Delivered says whether the record id at time t was delivered already.
func (s Seen) Delivered(id string, t int64) bool {
	at, ok := s[id]
	return ok && at == t
}

// Add records a delivery, making the map if needed.
func (s *Seen) Add(id string, t int64) {
	if *s == nil {
		*s = Seen{}
	}
	(*s)[id] = t
}

// Prune drops the records delivered before from, and then, while more
// than MaxSeen remain, the oldest of those delivered before newest: the
// records at newest are what a query starting there must skip, so they
// stay.
func (s Seen) Prune(from, newest int64) {
	for id, t := range s {
		if t < from {
			delete(s, id)
		}
	}
	if len(s) <= MaxSeen {
		return
	}
	type entry struct {
		id string
		t  int64
	}
	var old []entry
	for id, t := range s {
		if t < newest {
			old = append(old, entry{id, t})
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].t < old[j].t || old[i].t == old[j].t && old[i].id < old[j].id })
	for _, e := range old {
		if len(s) <= MaxSeen {
			break
		}
		delete(s, e.id)
	}
}
