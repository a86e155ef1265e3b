// Package pipeline runs desilo's two phases. Extract pulls new records
// from each source through its connector, maps them and stages them, and
// only then advances the source's saved state. Build recomputes identity
// and profiles from everything staged for the configured sources (a
// source removed from desilo.yaml is left out, with a warning) and
// publishes a snapshot. Sync is both. The CLI is a thin layer over Extract, Build and the Summary.
package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/desilo/desilo/core/config"
	"github.com/desilo/desilo/plugins/connector"
)

// Conn is a running connector for one source.
type Conn interface {
	connector.Connector
	Close()
}

// Launcher starts a source's connector: the CLI launches a plugin process
// through the host; tests may run connectors in-process.
type Launcher interface {
	Launch(ctx context.Context, src *config.Source) (Conn, error)
}

// Observer is told about progress: the CLI draws bars on a terminal and
// logs periodic lines otherwise. Calls come from several goroutines.
type Observer interface {
	SourceStarted(source string)
	SourceRecords(source string, records, rejects int64)
	SourceDone(source string, s SourceSummary)
	Stage(name string)
}

// Options configure a run.
type Options struct {
	Config   *config.Config
	Launcher Launcher
	Logger   *slog.Logger
	Observer Observer // may be nil
	// Sources limits extraction to these sources; empty means all.
	Sources []string
	// FullRefresh ignores saved states: every source is read from the
	// start, and its staged data is replaced once the read succeeds.
	FullRefresh bool
	// Parallel is how many sources are extracted at once (default 4).
	Parallel int
	// Now is the clock (tests fix it); default time.Now.
	Now func() time.Time
	// RunID names the run; default derived from the start time.
	RunID string
	// LiveRecords, when above 0, is how many live records the staging
	// holds (see stage.Store.LiveRows); a build sizes its arrays by it.
	LiveRecords int64
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunID == "" {
		o.RunID = o.Now().UTC().Format("20060102T150405.000000000Z")
	}
}

type nopObserver struct{}

func (nopObserver) SourceStarted(string)               {}
func (nopObserver) SourceRecords(string, int64, int64) {}
func (nopObserver) SourceDone(string, SourceSummary)   {}
func (nopObserver) Stage(string)                       {}
