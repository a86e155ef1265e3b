package stage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLocked is what a run gets when another run holds the state dir.
// Test for it with errors.Is; the error itself is a *LockedError.
var ErrLocked = errors.New("state dir is locked")

// LockedError says who holds a state dir's run lock, as far as the lock
// file tells.
type LockedError struct {
	Dir string
	// Output is set when Dir is an output folder (LockOutput), not a
	// state dir.
	Output bool
	PID    int       // 0 when the holder has not written its details yet
	Host   string    //
	Since  time.Time // when the holder took the lock
}

func (e *LockedError) Error() string {
	what, why := "state dir", "another desilo run is in progress"
	if e.Output {
		what, why = "output folder", "another desilo run publishes there (does another config use the same output.parquet.path?)"
	}
	if e.PID == 0 {
		return fmt.Sprintf("%s %s is locked by another process: %s", what, e.Dir, why)
	}
	return fmt.Sprintf("%s %s is locked by pid %d on host %s since %s: %s",
		what, e.Dir, e.PID, e.Host, e.Since.UTC().Format(time.RFC3339), why)
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// RunLock is the exclusive lock of one run on a state dir. It is an
// flock(2) on state_dir/lock, so the kernel releases it when the holder
// exits in any way, including kill -9: a lock file left behind by a dead
// run never blocks the next one.
type RunLock struct {
	dir string
	f   *os.File
}

// lockInfo is the content of the lock file, for the message a second run
// gets. It is informative only: the flock is the lock.
type lockInfo struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// Lock takes the run lock of stateDir, creating the dir if needed. It does
// not wait: when another run holds the lock it returns a *LockedError.
func Lock(stateDir string) (*RunLock, error) {
	return lock(stateDir, "lock", false)
}

// OutputLockFile is the name of the lock file LockOutput takes in an
// output folder.
const OutputLockFile = ".desilo-lock"

// LockOutput takes the lock of a Parquet output folder, creating the
// folder if needed, the same way as Lock. A run holds it besides the run
// lock of its state dir, for as long as it may publish: the run lock does
// not stop two configs with different state dirs from publishing into one
// folder, where one run's pruning would remove the snapshot the other is
// writing. It does not wait: when another run holds it, it returns a
// *LockedError.
func LockOutput(outDir string) (*RunLock, error) {
	return lock(outDir, OutputLockFile, true)
}

func lock(dir, name string, output bool) (*RunLock, error) {
	what := "state dir"
	if output {
		what = "output folder"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, dir, err)
	}
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s %s: run lock: %w", what, dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedBy(dir, path, output)
		}
		return nil, fmt.Errorf("%s %s: run lock %s: %w", what, dir, path, err)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	info, _ := json.Marshal(lockInfo{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	if err := writeLockInfo(f, append(info, '\n')); err != nil {
		f.Close() // releases the flock
		return nil, fmt.Errorf("%s %s: run lock %s: %w", what, dir, path, err)
	}
	return &RunLock{dir: dir, f: f}, nil
}

func writeLockInfo(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(b, 0)
	return err
}

// lockedBy reads the holder's details. The holder may be between taking
// the flock and writing them, so missing or partial content is not an
// error: the message then names no holder.
func lockedBy(dir, path string, output bool) error {
	e := &LockedError{Dir: dir, Output: output}
	b, err := os.ReadFile(path)
	if err != nil {
		return e
	}
	var info lockInfo
	if json.Unmarshal(b, &info) == nil {
		e.PID, e.Host, e.Since = info.PID, info.Host, info.Since
	}
	return e
}

// Dir is the state dir (or output folder) the lock holds.
func (l *RunLock) Dir() string { return l.dir }

// Close releases the lock. The lock file stays (removing it would race
// with a run that has just opened it); its details are cleared.
func (l *RunLock) Close() error {
	if l == nil || l.f == nil { // nil: no lock was taken
		return nil
	}
	f := l.f
	l.f = nil
	_ = f.Truncate(0) // only informative content; the flock is what matters
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: releasing the run lock: %w", l.dir, err)
	}
	return nil
}

// userFile names, in a locked folder, the config file of the run that
// used it last.
const userFile = ".desilo-config"

// Claim records configFile (an absolute path) as the user of the locked
// folder and returns the one recorded before it: "" for none. Two configs
// that share a state dir share the staged records and saved states of
// their same-named sources, and two that share an output folder replace
// each other's snapshots; callers warn when the user changes.
func (l *RunLock) Claim(configFile string) (string, error) {
	path := filepath.Join(l.dir, userFile)
	prev, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if string(prev) == configFile {
		return configFile, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(configFile), 0o644); err != nil {
		return "", err
	}
	return string(prev), os.Rename(tmp, path)
}
