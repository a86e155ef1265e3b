package stage

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/desilo/desilo/core/sink/parquet"
)

// Names inside a source's directory. Stream directories never start with
// '_' (see streamDir), so these cannot collide with a stream.
const (
	manifestName = "_manifest.json"
	rejectsDir   = "_rejects"
	stagingDir   = "staging"
	scratchDir   = "scratch" // a build's temporary files
)

// SegmentRowGroup is the number of rows in a staged segment's row group,
// the unit a build reads at a time (see Store.ScanChunks). A variable
// for tests.
var SegmentRowGroup = 1 << 16

func segmentOptions() parquet.Options { return parquet.Options{RowGroupRows: SegmentRowGroup} }

// sourceName is the pattern of a source's name in desilo.yaml; it is used
// as a directory name as it is.
var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func checkSource(source string) error {
	if !sourceName.MatchString(source) {
		return fmt.Errorf("source name %q: want a lower-case letter, then letters, digits or underscores", source)
	}
	return nil
}

// maxStreamDir bounds a stream directory's name well below the 255 bytes
// file systems allow.
const maxStreamDir = 200

// streamDir turns a stream name, which a connector chooses, into a safe,
// readable directory name: ASCII letters, digits, '-', '_' and '.' stay;
// every other byte, and a leading '.' or '_', becomes %XX. The mapping is
// one to one, so two streams never share a directory.
func streamDir(stream string) (string, error) {
	if stream == "" {
		return "", fmt.Errorf("empty stream name")
	}
	var b strings.Builder
	for i := 0; i < len(stream); i++ {
		c := stream[i]
		plain := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || (i > 0 && (c == '_' || c == '.'))
		if plain {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() > maxStreamDir {
		return "", fmt.Errorf("stream name %q is too long to stage (%d bytes as a directory name, at most %d)", stream, b.Len(), maxStreamDir)
	}
	return b.String(), nil
}

// segmentName is the file name of segment seq; zero-padded so a listing
// sorts in sequence order.
func segmentName(seq uint64) string { return fmt.Sprintf("%08d.parquet", seq) }

// parseSegmentName is the inverse of segmentName.
func parseSegmentName(name string) (uint64, bool) {
	stem, ok := strings.CutSuffix(name, ".parquet")
	if !ok || stem == "" || strings.TrimLeft(stem, "0123456789") != "" {
		return 0, false
	}
	seq, err := strconv.ParseUint(stem, 10, 64)
	return seq, err == nil
}

// isTemp reports a temporary file of ours: the Parquet writer's and
// writeFileAtomic's are ".<name>.<random>.tmp".
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp")
}

// writeFileAtomic replaces dir/name with data so that a crash leaves
// either the old or the new content: temp file, fsync, rename, fsync dir.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return parquet.SyncDir(dir)
}

// ensureDir creates dir (and missing parents up to root) and makes each
// new entry durable, so a segment renamed into dir cannot vanish with its
// directory in a crash.
func ensureDir(root, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if dir != root && parent != dir {
		if err := ensureDir(root, parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return parquet.SyncDir(parent)
}
