package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/desilo/desilo/core/sink/parquet"
)

// These tests run the real desilo binary and kill it at the worst moments.

func buildDesilo(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and kills the desilo binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "desilo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// bigSource writes files × rows contacts (unique emails) and a config that
// reads them: big enough that extract commits midway (every 200,000 rows)
// and the snapshot takes a moment to write.
func bigSource(t *testing.T, files, rows int) string {
	t.Helper()
	dir := t.TempDir()
	for f := range files {
		var b strings.Builder
		b.WriteString("id,email,first_name,last_name,updated\n")
		for r := range rows {
			n := f*rows + r
			fmt.Fprintf(&b, "%d,person%d@kundenpost.de,Vorname%d,Nachname%d,2024-01-%02dT10:00:00Z\n", n, n, n%97, n%89, n%28+1)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("contacts-%02d.csv", f)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `version: 1
identity:
  keys: [{name: email, normalize: email}]
sources:
  - name: crm
    connector: files
    config:
      streams: [{name: contacts, paths: ["contacts-*.csv"], primary_key: [id]}]
    mapping:
      contacts:
        entity: customer
        fields: {email: email, first_name: first_name, last_name: last_name, updated_at: updated}
`
	if err := os.WriteFile(filepath.Join(dir, "desilo.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startUntil starts desilo and returns once a stderr line contains want
// (or the file `until` exists), with the process still running.
func startUntil(t *testing.T, bin, dir, want, until string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--log-format", "json")...)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &strings.Builder{}
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if !once && want != "" && strings.Contains(sc.Text(), want) {
				once = true
				close(seen)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	deadline := time.After(2 * time.Minute)
	for {
		if until != "" {
			if _, err := os.Stat(filepath.Join(dir, until)); err == nil {
				return cmd, log
			}
		}
		select {
		case <-seen:
			return cmd, log
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("desilo never got to %q %q", want, until)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func countCustomers(t *testing.T, out string) (int64, map[string]int) {
	t.Helper()
	_, tables := snapshotTables(t, out)
	keys := map[string]int{}
	for _, l := range tables["identity_link"] {
		keys[value(l, "identity_link", "record_key").(string)]++
	}
	return int64(len(tables["customer"])), keys
}

func TestKilledDuringExtractResumes(t *testing.T) {
	bin := buildDesilo(t)
	const files, rows = 10, 25_000
	dir := bigSource(t, files, rows)
	// Killed once the first commit is durable: the state says which files
	// were delivered, and the rest is read by the next run.
	cmd, _ := startUntil(t, bin, dir, "", ".desilo/staging/crm/_manifest.json", "sync", "-c", "desilo.yaml")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()

	out, err := exec.Command(bin, "sync", "-c", filepath.Join(dir, "desilo.yaml")).CombinedOutput()
	if err != nil {
		t.Fatalf("the run after the kill failed: %v\n%s", err, out)
	}
	customers, keys := countCustomers(t, filepath.Join(dir, "out"))
	if customers != files*rows || len(keys) != files*rows {
		t.Fatalf("%d customers, %d distinct records; want %d of each", customers, len(keys), files*rows)
	}
	for k, n := range keys {
		if n != 1 {
			t.Fatalf("record %s is linked %d times", k, n)
		}
	}
}

func TestKilledDuringPublishKeepsTheLastSnapshot(t *testing.T) {
	bin := buildDesilo(t)
	const files, rows = 4, 25_000
	dir := bigSource(t, files, rows)
	cfg := filepath.Join(dir, "desilo.yaml")
	if out, err := exec.Command(bin, "sync", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("first sync: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "out")
	before, _, err := parquet.Current(out)
	if err != nil {
		t.Fatal(err)
	}
	// A rebuild killed while it writes the snapshot: from the profiles
	// stage on, tables are written into a new snapshot folder, which has
	// no manifest until the commit. Kill as soon as it exists.
	cmd, log := startUntil(t, bin, dir, `"stage":"profiles"`, "", "build", "-c", "desilo.yaml")
	partial := ""
	for deadline := time.Now().Add(time.Minute); partial == "" && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		partial = uncommittedSnapshot(t, out)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if partial == "" {
		t.Fatalf("the rebuild never began a snapshot\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(partial, "manifest.json")); err == nil {
		t.Fatalf("the rebuild committed %s before the kill: the test did not kill a publish", partial)
	}

	after, _, err := parquet.Current(out)
	if err != nil || after != before {
		t.Fatalf("current moved from %s to %s (%v) after a killed publish", before, after, err)
	}
	if customers, _ := countCustomers(t, out); customers != files*rows {
		t.Fatalf("the kept snapshot has %d customers, want %d", customers, files*rows)
	}
	if out, err := exec.Command(bin, "build", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("the build after the kill failed: %v\n%s", err, out)
	}
	if customers, _ := countCustomers(t, out); customers != files*rows {
		t.Fatalf("the new snapshot has %d customers, want %d", customers, files*rows)
	}
	entries, err := os.ReadDir(filepath.Join(out, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(out, "snapshots", e.Name(), "manifest.json")); err != nil {
			t.Errorf("snapshot %s has no manifest: a partial snapshot was left behind", e.Name())
		}
	}
}

// uncommittedSnapshot returns a snapshot folder under out that has no
// manifest yet, or "".
func uncommittedSnapshot(t *testing.T, out string) string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(out, "snapshots"))
	for _, e := range entries {
		dir := filepath.Join(out, "snapshots", e.Name())
		if _, err := os.Stat(filepath.Join(dir, "manifest.json")); errors.Is(err, fs.ErrNotExist) {
			return dir
		}
	}
	return ""
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	bin := buildDesilo(t)
	dir := bigSource(t, 6, 25_000)
	cmd, log := startUntil(t, bin, dir, `"msg":"extracting"`, "", "sync", "-c", "desilo.yaml")
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("desilo did not stop within 20 s of SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit code %d, want %d\n%s", code, exitInterrupted, log)
	}
	// No connector process outlives it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if pids := pluginsOf(bin); len(pids) == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("connector processes %v outlive desilo", pids)
		}
	}
	// Nothing half-done was published, and no state ran ahead of staging.
	if _, err := os.Stat(filepath.Join(dir, "out", "current")); err == nil {
		t.Fatal("an interrupted first run published a snapshot")
	}
}

// pluginsOf lists running processes started from bin.
func pluginsOf(bin string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.HasPrefix(string(cmdline), bin+"\x00connector\x00serve") {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+2:]), "Z") {
			continue // exited, not yet reaped
		}
		pids = append(pids, e.Name())
	}
	return pids
}
