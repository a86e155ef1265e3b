package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/desilo/desilo/core/model"
	"github.com/desilo/desilo/core/sink/parquet"
)

// OpenSnapshot finds a snapshot: dir is either a snapshot folder (it
// holds manifest.json) or an output folder (output.parquet.path), whose
// current snapshot is taken.
func OpenSnapshot(dir string) (string, parquet.Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return parquet.Current(dir)
	}
	if err != nil {
		return "", parquet.Manifest{}, fmt.Errorf("snapshot %s: %w", dir, err)
	}
	var m parquet.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return "", parquet.Manifest{}, fmt.Errorf("snapshot %s: manifest.json: %w", dir, err)
	}
	return dir, m, nil
}

// ReadLinks reads a snapshot's identity_link table: each record and the
// customer it joined.
func ReadLinks(ctx context.Context, dir string, m parquet.Manifest) (map[Key]string, error) {
	t := model.MustLoad("identity_link")
	col := func(name string) int {
		i, ok := t.Index(name)
		if !ok {
			panic("identity_link has no column " + name) // the schema is embedded
		}
		return i
	}
	src, stream, key, cust := col("source"), col("stream"), col("record_key"), col("customer_id")
	out := map[Key]string{}
	err := parquet.ReadTable(dir, m, t, func(row []any) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := Key{str(row[src]), str(row[stream]), str(row[key])}
		out[k] = str(row[cust])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: identity_link: %w", dir, err)
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
