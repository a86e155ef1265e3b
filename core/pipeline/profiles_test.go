package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/desilo/desilo/core/sink/parquet"
	"github.com/desilo/desilo/plugins/connector"
)

// Profiles are built in chunks on all cores and taken in order: the
// snapshot's tables are byte for byte the same whatever the chunk size
// (customers spanning chunk boundaries included) and the number of cores.
func TestProfileChunksGiveTheSameSnapshot(t *testing.T) {
	var crm, shop []connector.Record
	for i := range 300 {
		email := fmt.Sprintf("p%d@kundenpost.de", i%170) // many customers have several records
		at := fmt.Sprintf("2024-%02d-%02dT10:00:00Z", 1+i%12, 1+i%28)
		crm = append(crm, contact(fmt.Sprint(i), email, fmt.Sprintf("Name%d", i%170), at))
		if i%3 == 0 {
			shop = append(shop, contact(fmt.Sprint(i), email, fmt.Sprintf("Shop%d", i), at))
		}
	}
	e := newEnv(t, "crm", "shop")
	if _, err := e.sync(memLauncher{"crm": {records: crm}, "shop": {records: shop}}, false); err != nil {
		t.Fatal(err)
	}
	tables := func() map[string][]byte {
		dir, m, err := parquet.Current(e.cfg.Output.Parquet.Path)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		for name, mt := range m.Tables {
			if name == "merge" { // holds the run id
				continue
			}
			for _, f := range mt.Files {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				out[name] = append(out[name], b...)
			}
		}
		return out
	}
	rebuild := func(chunk, procs int) map[string][]byte {
		defer func(c, p int) { profileChunk = c; runtime.GOMAXPROCS(p) }(profileChunk, runtime.GOMAXPROCS(procs))
		profileChunk = chunk
		opts := Options{Config: e.cfg, Logger: quiet(), Now: func() time.Time { return e.now },
			RunID: fmt.Sprintf("chunk-%d-cores-%d", chunk, procs)}
		if _, err := Build(context.Background(), e.store, opts); err != nil {
			t.Fatal(err)
		}
		return tables()
	}
	want := rebuild(1<<14, 1) // one chunk, one core
	if len(want["customer"]) == 0 || len(want["event"]) == 0 {
		t.Fatalf("tables %v: want a customer and an event table", len(want))
	}
	for _, c := range []struct{ chunk, procs int }{{1, 4}, {7, 2}, {50, 3}} {
		got := rebuild(c.chunk, c.procs)
		for name, w := range want {
			if !bytes.Equal(got[name], w) {
				t.Errorf("chunk %d, %d cores: table %s differs from the one-chunk build", c.chunk, c.procs, name)
			}
		}
	}
}
