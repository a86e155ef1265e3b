package config

import (
	"fmt"
	"maps"
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
	return errs
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
