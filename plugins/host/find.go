package host

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// PluginPrefix starts the file name of every third-party connector.
const PluginPrefix = "desilo-connector-"

// PluginPathEnv lists extra plugin directories, separated like PATH.
const PluginPathEnv = "DESILO_PLUGIN_PATH"

// SearchPath is where third-party connectors are looked for, in order:
// the --plugin-dir flags, $DESILO_PLUGIN_PATH, then ~/.desilo/plugins.
func SearchPath(flagDirs []string) []string {
	dirs := append([]string(nil), flagDirs...)
	for _, d := range filepath.SplitList(os.Getenv(PluginPathEnv)) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".desilo", "plugins"))
	}
	return dirs
}

// Found is a third-party connector executable on the search path.
type Found struct {
	Name string // the connector name: the file name without the prefix
	Path string
}

// ErrNotFound says no built-in or plugin has the connector's name.
var ErrNotFound = errors.New("connector not found")

// FindPlugin returns the first executable desilo-connector-NAME in dirs,
// as an absolute path: the plugin runs in the config file's directory,
// where a path relative to ours would name another file or none.
func FindPlugin(dirs []string, name string) (string, error) {
	var notExec []string // files of the right name that cannot be run
	for _, d := range dirs {
		p := filepath.Join(d, PluginPrefix+name)
		if isExecutable(p) {
			return filepath.Abs(p)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			notExec = append(notExec, p)
		}
	}
	hint := ""
	if len(notExec) > 0 {
		hint = fmt.Sprintf(" (%s is there but not executable: chmod +x it)", strings.Join(notExec, ", "))
	}
	return "", fmt.Errorf("%w: %q is not built in, and there is no executable %s%s in %s%s",
		ErrNotFound, name, PluginPrefix, name, strings.Join(dirs, ", "), hint)
}

// ListPlugins returns the connectors on the search path, by name; where
// two directories have the same name, the earlier one wins, as in FindPlugin.
func ListPlugins(dirs []string) []Found {
	seen := map[string]bool{}
	var out []Found
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue // a missing directory on the path is normal
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), PluginPrefix)
			p := filepath.Join(d, e.Name())
			if !ok || name == "" || seen[name] || !isExecutable(p) {
				continue
			}
			seen[name] = true
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			out = append(out, Found{Name: name, Path: p})
		}
	}
	slices.SortFunc(out, func(a, b Found) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
