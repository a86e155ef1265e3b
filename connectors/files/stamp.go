package files

import "os"

// stampOf is how fi looks now, for fileStamp.same.
func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{Size: fi.Size(), ModTime: fi.ModTime().UTC()}
	st.Inode, st.Change = sysStamp(fi)
	return st
}
