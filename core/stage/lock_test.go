package stage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockExcludesSecondRun(t *testing.T) {
	dir := t.TempDir()
	l, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want a *LockedError", err)
	}
	host, _ := os.Hostname()
	if le.PID != os.Getpid() || le.Host != host || le.Since.IsZero() {
		t.Errorf("LockedError = %+v, want pid %d on %s with a start time", le, os.Getpid(), host)
	}
	want := fmt.Sprintf("state dir %s is locked by pid %d on host %s since %s: another desilo run is in progress",
		dir, os.Getpid(), host, le.Since.Format("2006-01-02T15:04:05Z"))
	if err.Error() != want {
		t.Errorf("message = %q\nwant      %q", err.Error(), want)
	}
	if _, err := Open(&RunLock{dir: dir}, Options{}); err == nil {
		t.Error("Open without a held lock succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after Close = %v", err)
	}
	l2.Close()
}

func TestLockedErrorMessage(t *testing.T) {
	le := &LockedError{Dir: "/x"}
	if got, want := le.Error(), "state dir /x is locked by another process: another desilo run is in progress"; got != want {
		t.Errorf("message without holder details = %q, want %q", got, want)
	}
}

// An output folder may be a run's state dir too: its lock is another file,
// which the run holding the state dir's lock can take.
func TestLockOutputBesidesTheRunLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	run, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	out, err := LockOutput(dir)
	if err != nil {
		t.Fatalf("LockOutput of the locked state dir = %v", err)
	}
	_, err = LockOutput(dir)
	var le *LockedError
	if !errors.As(err, &le) || !le.Output || !strings.HasPrefix(err.Error(), "output folder "+dir+" is locked by pid") {
		t.Fatalf("second LockOutput = %v, want an output folder's *LockedError", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	out, err = LockOutput(dir)
	if err != nil {
		t.Fatalf("LockOutput after Close = %v", err)
	}
	out.Close()
}

// holdLockEnv makes the test binary, run as a child, take the lock of the
// named dir and hold it until it is killed.
const holdLockEnv = "DESILO_STAGE_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdLockEnv); dir != "" {
		if _, err := Lock(dir); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		// Hold it until killed; should the test die first, its end of
		// stdin closes and so does this process.
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A lock whose holder was killed does not block the next run: the file
// stays, the flock dies with the process.
func TestLockOfKilledProcessIsFree(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdLockEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe() // kept open: the child holds the lock until killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}

	_, err = Lock(dir)
	var le *LockedError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
		t.Errorf("Lock while the child holds it = %v, want locked by pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait() // reaped: the kernel has released its flock
	if _, err := os.Stat(dir + "/lock"); err != nil {
		t.Fatalf("the killed holder's lock file should still be there: %v", err)
	}
	l, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v", err)
	}
	l.Close()
}

// Scratch gives a build an empty directory under the state dir; what a
// killed build left there is gone at the next Open and the next Scratch.
func TestScratchStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	s, l := open(t, dir, Options{})
	scratch, err := s.Scratch()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(scratch) != dir {
		t.Fatalf("scratch %s is not in the state dir %s", scratch, dir)
	}
	left := filepath.Join(scratch, "rows-00000")
	if err := os.WriteFile(left, []byte("a killed build's rows"), 0o600); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Scratch(); err != nil || again != scratch {
		t.Fatalf("Scratch again: %s, %v", again, err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("Scratch kept an earlier file (%v)", err)
	}
	if err := os.WriteFile(left, []byte("a killed build's rows"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, dir, Options{})
	if _, err := os.Stat(scratch); !os.IsNotExist(err) {
		t.Fatalf("Open kept a killed build's scratch directory (%v)", err)
	}
}
