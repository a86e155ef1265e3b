package main

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/desilo/desilo/core/pipeline"
)

// newObserver shows progress: bars on a terminal, periodic log lines for
// schedulers and files.
func (a *app) newObserver() (pipeline.Observer, func()) {
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && a.logFormat == "text" {
		b := &bars{p: mpb.New(mpb.WithOutput(a.stderr), mpb.WithWidth(24)), bars: map[string]*mpb.Bar{}, last: map[string]time.Time{}, out: a.stderr}
		return b, b.wait
	}
	l := &logLines{log: a.log, every: 10 * time.Second, last: map[string]time.Time{}}
	return l, func() {}
}

// bars draws one bar per source on a terminal.
type bars struct {
	p    *mpb.Progress
	out  io.Writer
	mu   sync.Mutex
	bars map[string]*mpb.Bar
	last map[string]time.Time // when each bar was last moved, for its rate
	done bool
}

func (b *bars) SourceStarted(source string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[source] = time.Now()
	b.bars[source] = b.p.New(0, mpb.SpinnerStyle(),
		mpb.PrependDecorators(decor.Name(source, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.CurrentNoUnit("%d records", decor.WCSyncSpace),
			decor.EwmaSpeed(0, "%.0f/s", 30, decor.WCSyncSpace),
			decor.OnComplete(decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace), " done"),
		),
	)
}

func (b *bars) SourceRecords(source string, records, _ int64) {
	b.mu.Lock()
	bar := b.bars[source]
	now := time.Now()
	since := now.Sub(b.last[source])
	b.last[source] = now
	b.mu.Unlock()
	if bar != nil {
		// The rate decorator needs the time this step took.
		bar.EwmaSetCurrent(records, since)
	}
}

func (b *bars) SourceDone(source string, s pipeline.SourceSummary) {
	b.mu.Lock()
	bar := b.bars[source]
	b.mu.Unlock()
	if bar == nil {
		return
	}
	if s.Error != "" {
		bar.Abort(false)
		return
	}
	bar.SetCurrent(s.Records)
	bar.SetTotal(-1, true)
}

func (b *bars) Stage(name string) {
	b.wait()
	io.WriteString(b.out, "build: "+name+"…\n")
}

// wait lets the bars finish drawing before other output.
func (b *bars) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.done = true
		b.p.Wait()
	}
}

// logLines logs each source's progress at most every so often.
type logLines struct {
	log   *slog.Logger
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

func (l *logLines) SourceStarted(source string) {
	l.log.Info("extracting", "source", source)
	l.mu.Lock()
	l.last[source] = time.Now()
	l.mu.Unlock()
}

func (l *logLines) SourceRecords(source string, records, rejects int64) {
	l.mu.Lock()
	due := time.Since(l.last[source]) >= l.every
	if due {
		l.last[source] = time.Now()
	}
	l.mu.Unlock()
	if due {
		l.log.Info("extracting", "source", source, "records", records, "rejects", rejects)
	}
}

func (l *logLines) SourceDone(string, pipeline.SourceSummary) {}

func (l *logLines) Stage(name string) { l.log.Info("build", "stage", name) }
