package pipeline

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is what a run did, printed at the end and written as JSON for
// schedulers (--summary-json).
type Summary struct {
	RunID    string          `json:"run_id"`
	Started  time.Time       `json:"started"`
	Finished time.Time       `json:"finished"`
	OK       bool            `json:"ok"`
	Sources  []SourceSummary `json:"sources"`
	Build    *BuildSummary   `json:"build,omitempty"`
	// OutputError says why an output after the snapshot (BigQuery) failed.
	OutputError string `json:"output_error,omitempty"`
	// Error says why a run stopped before its summary was complete: a
	// config error, another run holding the lock, an interruption.
	Error string `json:"error,omitempty"`
}

// MarshalJSON writes no sources as [], not null: a run that stopped
// before extracting (a config error, the lock) has none, and a scheduler's
// parser should not need a special case for it.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary // without this method
	p := plain(s)
	if p.Sources == nil {
		p.Sources = []SourceSummary{}
	}
	return json.Marshal(p)
}

// MarshalJSON writes no streams as [], not null.
func (s SourceSummary) MarshalJSON() ([]byte, error) {
	type plain SourceSummary
	p := plain(s)
	if p.Streams == nil {
		p.Streams = []StreamCount{}
	}
	return json.Marshal(p)
}

// SourceSummary is one source's extraction.
type SourceSummary struct {
	Name      string        `json:"name"`
	Connector string        `json:"connector"`
	Records   int64         `json:"records"`
	Deleted   int64         `json:"deleted"`
	Rejects   int64         `json:"rejects"`
	Streams   []StreamCount `json:"streams"`
	// Unmapped are streams that were not extracted because neither the
	// connector nor desilo.yaml maps them.
	Unmapped []string `json:"unmapped,omitempty"`
	Duration Duration `json:"duration"`
	Error    string   `json:"error,omitempty"`
}

// StreamCount counts one stream's records.
type StreamCount struct {
	Stream  string `json:"stream"`
	Entity  string `json:"entity"`
	Records int64  `json:"records"`
	Rejects int64  `json:"rejects"`
}

// BuildSummary is the build's outcome.
type BuildSummary struct {
	Records   int64            `json:"records"`
	Customers int64            `json:"customers"`
	Links     int64            `json:"links"`
	Merges    int64            `json:"merges"`
	Events    int64            `json:"events"`
	Rejects   int64            `json:"rejects"`
	Blocked   int              `json:"blocked_values"`
	TooCommon int              `json:"too_common_values"`
	Refused   int              `json:"refused_merges"`
	Tables    map[string]int64 `json:"tables"`
	Snapshot  string           `json:"snapshot"`
	Stages    []StageTiming    `json:"stages"`
}

// StageTiming is how long one build stage took.
type StageTiming struct {
	Stage    string   `json:"stage"`
	Duration Duration `json:"duration"`
}

// Duration marshals as seconds.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%.3f", time.Duration(d).Seconds())), nil
}

// UnmarshalJSON reads the seconds back, so a summary file can be read
// by Go tools (and tests) as the type that wrote it.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

func (d Duration) String() string { return time.Duration(d).Round(time.Millisecond).String() }

// Print writes the summary for a person.
func (s *Summary) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(s.Sources) > 0 {
		fmt.Fprintln(tw, "SOURCE\tRECORDS\tREJECTS\tDURATION\tRESULT")
		for _, src := range s.Sources {
			result := "ok"
			if src.Error != "" {
				result = "FAILED: " + firstLine(src.Error)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", src.Name, src.Records, src.Rejects, src.Duration, result)
		}
		tw.Flush()
	}
	if b := s.Build; b != nil {
		fmt.Fprintf(w, "customers %d  links %d  merges %d  events %d  rejects %d\n", b.Customers, b.Links, b.Merges, b.Events, b.Rejects)
		if b.Blocked+b.TooCommon+b.Refused > 0 {
			fmt.Fprintf(w, "values that linked nothing: %d blocklisted, %d too common; merges refused by limits: %d\n", b.Blocked, b.TooCommon, b.Refused)
		}
		var stages []string
		for _, st := range b.Stages {
			stages = append(stages, st.Stage+" "+st.Duration.String())
		}
		fmt.Fprintf(w, "build: %s\nsnapshot: %s\n", strings.Join(stages, ", "), b.Snapshot)
	}
	if s.OutputError != "" {
		fmt.Fprintf(w, "output FAILED: %s\n", firstLine(s.OutputError))
	}
	if s.Error != "" {
		fmt.Fprintf(w, "FAILED: %s\n", firstLine(s.Error))
	}
	fmt.Fprintf(w, "run %s finished in %s\n", s.RunID, Duration(s.Finished.Sub(s.Started)))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
