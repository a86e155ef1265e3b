package host_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/desilo/desilo/plugins/host"
)

// TestFindPluginNotExecutable: a plugin file that lacks the execute bit
// (copied without it, built on another machine) is named, with the fix,
// rather than reported as missing from the directory it is in.
func TestFindPluginNotExecutable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, host.PluginPrefix+"contacts")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := host.FindPlugin([]string{t.TempDir(), dir}, "contacts")
	if !errors.Is(err, host.ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
	if want := p + " is there but not executable: chmod +x it"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %q\ndoes not say %q", err, want)
	}
	// Without such a file, no hint.
	if _, err := host.FindPlugin([]string{dir}, "other"); err == nil || strings.Contains(err.Error(), "chmod") {
		t.Fatalf("error = %v, want not found without a hint", err)
	}
}
