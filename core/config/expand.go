package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// maxSecretFile bounds what ${file:PATH} reads, so a reference to a device
// or a huge file fails instead of filling memory.
const maxSecretFile = 1 << 20

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expander replaces references in string values: ${NAME} by the
// environment variable NAME, ${file:PATH} by the file's contents without
// trailing newlines, and $${ by a literal ${. Every substituted value is
// kept in secrets.
type expander struct {
	dir     string
	lookup  func(string) (string, bool)
	secrets map[string]bool
}

// expand returns s with its references replaced.
func (x *expander) expand(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // $${ is an escaped ${
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New(`unterminated reference "${" (write $${ for a literal ${)`)
		}
		ref := s[i+2 : i+end]
		val, err := x.resolve(ref)
		if err != nil {
			return "", err
		}
		if val != "" {
			x.secrets[val] = true
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

func (x *expander) resolve(ref string) (string, error) {
	if path, ok := strings.CutPrefix(ref, "file:"); ok {
		return x.readFile(path)
	}
	if !envName.MatchString(ref) {
		return "", fmt.Errorf("invalid reference ${%s}: want ${ENV_VAR} or ${file:PATH} (write $${ for a literal ${)", ref)
	}
	val, ok := x.lookup(ref)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", ref)
	}
	return val, nil
}

func (x *expander) readFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("invalid reference ${file:}: the path is empty")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(x.dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("secret file %s: larger than %d bytes", path, maxSecretFile)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
