package files

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// expand returns the regular files matching any of patterns, sorted and
// without duplicates. Patterns have filepath.Match syntax; a path segment
// "**" matches any number of directories, including none.
func expand(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		var matches []string
		var err error
		if strings.Contains(p, "**") {
			matches, err = globStar(p)
		} else {
			matches, err = filepath.Glob(p)
		}
		if err != nil {
			return nil, fmt.Errorf("paths: %q: %w", p, err)
		}
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// unmatched returns the patterns that match no file.
func unmatched(patterns []string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		m, err := expand([]string{p})
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

// globStar walks the pattern's longest directory prefix without
// metacharacters and matches every file below it segment by segment.
func globStar(pattern string) ([]string, error) {
	segs := strings.Split(filepath.ToSlash(pattern), "/")
	static := 0
	for static < len(segs)-1 && !strings.ContainsAny(segs[static], `*?[\`) {
		static++
	}
	root := strings.Join(segs[:static], "/")
	switch {
	case static == 0:
		root = "."
	case root == "":
		root = "/"
	}
	rest := segs[static:]
	for _, s := range rest {
		if s != "**" {
			if _, err := filepath.Match(s, ""); err != nil {
				return nil, err
			}
		}
	}
	var matches []string
	err := filepath.WalkDir(filepath.FromSlash(root), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == filepath.FromSlash(root) && os.IsNotExist(err) {
				return filepath.SkipAll // no files, as with filepath.Glob
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(filepath.FromSlash(root), path)
		if err != nil {
			return err
		}
		if matchSegments(rest, strings.Split(filepath.ToSlash(rel), "/")) {
			matches = append(matches, path)
		}
		return nil
	})
	return matches, err
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := filepath.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
