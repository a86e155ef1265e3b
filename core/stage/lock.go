package stage

import (
	"encoding/json"
	"errors"
	"fmt"
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
	Dir   string
	PID   int       // 0 when the holder has not written its details yet
	Host  string    //
	Since time.Time // when the holder took the lock
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("state dir %s is locked by another process: another desilo run is in progress", e.Dir)
	}
	return fmt.Sprintf("state dir %s is locked by pid %d on host %s since %s: another desilo run is in progress",
		e.Dir, e.PID, e.Host, e.Since.UTC().Format(time.RFC3339))
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
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir %s: %w", stateDir, err)
	}
	path := filepath.Join(stateDir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state dir %s: run lock: %w", stateDir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, lockedBy(stateDir, path)
		}
		return nil, fmt.Errorf("state dir %s: run lock %s: %w", stateDir, path, err)
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	info, _ := json.Marshal(lockInfo{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	if err := writeLockInfo(f, append(info, '\n')); err != nil {
		f.Close() // releases the flock
		return nil, fmt.Errorf("state dir %s: run lock %s: %w", stateDir, path, err)
	}
	return &RunLock{dir: stateDir, f: f}, nil
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
func lockedBy(dir, path string) error {
	e := &LockedError{Dir: dir}
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

// Dir is the state dir the lock holds.
func (l *RunLock) Dir() string { return l.dir }

// Close releases the lock. The lock file stays (removing it would race
// with a run that has just opened it); its details are cleared.
func (l *RunLock) Close() error {
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	_ = f.Truncate(0) // only informative content; the flock is what matters
	if err := f.Close(); err != nil {
		return fmt.Errorf("state dir %s: releasing the run lock: %w", l.dir, err)
	}
	return nil
}
