package files

import (
	"os"
	"syscall"
)

// sysStamp returns the file's inode and change time (ns): a rewrite that
// keeps the size and the modification time changes them.
func sysStamp(fi os.FileInfo) (uint64, int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino, st.Ctim.Nano()
	}
	return 0, 0
}
