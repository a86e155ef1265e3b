package host_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/desilo/desilo/plugins/host"
	"github.com/desilo/desilo/plugins/sdk/sdktest"
)

// TestExamplePluginThroughHost builds the example third-party connector
// as its own executable, puts it on the plugin path, and runs the
// conformance kit on it through the host: a separate process, found by
// name, started in the config's directory.
func TestExamplePluginThroughHost(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, host.PluginPrefix+"newsletter")
	build := exec.Command("go", "build", "-o", bin, "github.com/desilo/desilo/examples/connector-plugin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example plugin: %v\n%s", err, out)
	}
	if found := host.ListPlugins([]string{t.TempDir(), dir}); len(found) != 1 || found[0].Name != "newsletter" {
		t.Fatalf("ListPlugins = %+v", found)
	}
	h := host.New(host.Options{PluginDirs: []string{dir}})
	defer h.Close()
	example, err := filepath.Abs("../../examples/connector-plugin")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Launch(context.Background(), host.Target{Source: "newsletter", Connector: "newsletter", Dir: example})
	if err != nil {
		t.Fatal(err)
	}
	sdktest.Run(t, p, sdktest.Options{
		// Relative to Dir: the plugin runs where the config file is.
		Config:     json.RawMessage(`{"path": "testdata/subscribers.jsonl"}`),
		BadConfigs: []json.RawMessage{json.RawMessage(`{"path": "testdata/missing.jsonl"}`)},
	})

	if _, err := h.Launch(context.Background(), host.Target{Source: "x", Connector: "nosuch"}); err == nil {
		t.Fatal("launching an unknown connector succeeded")
	}
}
