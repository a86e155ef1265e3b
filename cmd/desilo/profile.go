package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the hidden --cpuprofile and arms --memprofile, for
// the benchmark harness and for anyone chasing a slow run.
func (a *app) startProfiles() error {
	var stops []func()
	if a.cpuProfile != "" {
		f, err := os.Create(a.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if a.memProfile != "" {
		path := a.memProfile
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err != nil {
				a.log.Error("--memprofile", "error", err)
				return
			}
			defer f.Close()
			runtime.GC()
			if err := pprof.WriteHeapProfile(f); err != nil {
				a.log.Error("--memprofile", "error", err)
			}
		})
	}
	a.stopProfile = func() {
		for _, stop := range stops {
			stop()
		}
	}
	return nil
}
