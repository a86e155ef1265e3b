package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"

	"github.com/desilo/desilo/core/model"
)

// check finds the problems a JSON Schema cannot express: names that must
// be unique or must name a source, and settings that depend on each other.
// Messages quote a value only where it is an identifier (a source, key or
// stream name), never a value that may be a secret.
func (c *Config) check() Errors {
	var errs Errors
	add := func(ptr, format string, args ...any) {
		errs = append(errs, c.ErrorAt(ptr, fmt.Sprintf(format, args...)))
	}

	firstSource := map[string]int{}
	var names []string
	for i, s := range c.Sources {
		ptr := fmt.Sprintf("/sources/%d/name", i)
		if first, dup := firstSource[s.Name]; dup {
			add(ptr, "source %q is defined twice (first at line %d)", s.Name, c.doc.line(fmt.Sprintf("/sources/%d/name", first)))
			continue
		}
		firstSource[s.Name] = i
		names = append(names, s.Name)
		if len(s.Streams) > 0 {
			for stream := range s.Mapping {
				if !slices.Contains(s.Streams, stream) {
					add(fmt.Sprintf("/sources/%d/mapping/%s", i, escapeToken(stream)),
						"a mapping for stream %q, which streams does not list%s", stream, suggest(stream, s.Streams))
				}
			}
		}
	}

	firstKey := map[string]int{}
	phone := ""
	for i, k := range c.Identity.Keys {
		ptr := fmt.Sprintf("/identity/keys/%d/name", i)
		if first, dup := firstKey[k.Name]; dup {
			add(ptr, "key %q is defined twice (first at line %d)", k.Name, c.doc.line(fmt.Sprintf("/identity/keys/%d/name", first)))
		}
		firstKey[k.Name] = i
		for _, p := range k.Parts() {
			if p.Normalize == NormalizePhone && phone == "" {
				phone = k.Name
			}
		}
		errs = append(errs, c.checkKeyFields(i, k)...)
	}
	firstLimit := map[string]bool{}
	for i, l := range c.Identity.Limits {
		if firstLimit[l.ID] {
			add(fmt.Sprintf("/identity/limits/%d/id", i), "a second limit for id %q", l.ID)
		}
		firstLimit[l.ID] = true
	}
	if region := c.Identity.DefaultRegion; region == "" && phone != "" {
		add("/identity/default_region", "required because key %q normalizes phone numbers: set the ISO 3166 country (e.g. DE) of numbers written without a country code", phone)
	} else if region != "" && !phonenumbers.GetSupportedRegions()[region] {
		hint := ""
		if region == "UK" {
			hint = ` (did you mean "GB"?)`
		}
		add("/identity/default_region", "%q is not an ISO 3166 region with a phone numbering plan%s", region, hint)
	}

	surv := c.Profile.Survivorship
	checkPriority := func(ptr string, list []string) {
		for j, name := range list {
			if _, ok := firstSource[name]; !ok {
				add(fmt.Sprintf("%s/%d", ptr, j), "unknown source %q%s", name, suggest(name, names))
			}
		}
	}
	checkPriority("/profile/survivorship/source_priority", surv.SourcePriority)
	if surv.Default == SourcePriority && len(surv.SourcePriority) == 0 {
		add("/profile/survivorship/source_priority", "required because the default rule is source_priority")
	}
	for _, field := range slices.Sorted(maps.Keys(surv.Fields)) {
		r := surv.Fields[field]
		ptr := "/profile/survivorship/fields/" + escapeToken(field)
		if r.Rule == SourcePriority && len(r.SourcePriority) == 0 {
			add(ptr+"/source_priority", "required because the rule is source_priority: list the sources in order (a field without source_priority takes profile.survivorship.source_priority; an empty list does not)")
		}
		if r.Rule != SourcePriority && len(r.SourcePriority) > 0 {
			add(ptr+"/rule", "source_priority is set but the rule is %s", r.Rule)
		}
		if !slices.Equal(r.SourcePriority, surv.SourcePriority) { // the shared list is checked above
			checkPriority(ptr+"/source_priority", r.SourcePriority)
		}
	}
	errs = append(errs, c.checkFolders()...)
	return errs
}

// Folders desilo manages inside state_dir (see core/stage) and inside
// output.parquet.path (see core/sink/parquet). Each removes what it does
// not know in the folders of the other.
var (
	stateManaged  = []string{"staging", "scratch"}
	outputManaged = []string{"snapshots", "current"}
)

// checkFolders rejects a state_dir and an output.parquet.path that nest
// where one would destroy the other: a snapshot folder inside staging is
// taken for a staged source (and staged folders are removed when their
// manifest does not list them), and a state_dir inside the output's
// snapshots folder is removed by the first publish's pruning, with every
// saved state. Side by side, one inside the other, or one folder for both
// are fine.
func (c *Config) checkFolders() Errors {
	out, state := c.Output.Parquet.Path, c.StateDir
	if out == "" || state == "" {
		return nil
	}
	var errs Errors
	for _, sub := range stateManaged {
		if within(out, filepath.Join(state, sub)) {
			errs = append(errs, c.ErrorAt("/output/parquet/path", fmt.Sprintf(
				"is inside state_dir's %s folder, which desilo manages and cleans: put the output beside state_dir (or directly in it)", sub)))
		}
	}
	for _, sub := range outputManaged {
		if within(state, filepath.Join(out, sub)) {
			errs = append(errs, c.ErrorAt("/state_dir", fmt.Sprintf(
				"is inside output.parquet.path's %s folder, whose unknown folders each publish removes, saved states and staging included: put state_dir beside the output", sub)))
		}
	}
	return errs
}

// within reports whether path is dir or inside it (lexically).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkKeyFields rejects a key field that no mapped record has: identity
// would find no value in any record, and the key would link nothing in
// silence.
func (c *Config) checkKeyFields(i int, k Key) Errors {
	var errs Errors
	known := keyFields()
	ok := func(f string) bool { return strings.HasPrefix(f, "ids.") || slices.Contains(known, f) }
	base := fmt.Sprintf("/identity/keys/%d", i)
	for j, f := range k.Composite {
		if !ok(f) {
			errs = append(errs, c.ErrorAt(fmt.Sprintf("%s/composite/%d", base, j),
				fmt.Sprintf("%q is not a field of a mapped record%s", f, suggest(f, known))))
		}
	}
	if len(k.Composite) > 0 || ok(k.Field) {
		return errs
	}
	if _, set := c.doc.pos[base+"/field"]; set {
		return append(errs, c.ErrorAt(base+"/field", fmt.Sprintf("%q is not a field of a mapped record%s", k.Field, suggest(k.Field, known))))
	}
	// The field defaults to the key's name.
	return append(errs, c.ErrorAt(base+"/name", fmt.Sprintf("no field is set, so the key reads %q, which is not a field of a mapped record%s", k.Field, suggest(k.Field, known))))
}

// keyFields lists the fields a key can read besides ids.<name>: the
// mapped tables' columns, which identity reads by name (see
// pipeline.newFieldReader), without those desilo fills.
var keyFields = sync.OnceValue(func() []string {
	var out []string
	for _, name := range model.Mapped {
		for _, col := range model.MustLoad(name).Columns {
			if !col.System && !slices.Contains(out, col.Name) {
				out = append(out, col.Name)
			}
		}
	}
	slices.Sort(out)
	return out
})
