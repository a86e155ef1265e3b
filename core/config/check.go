package config

import (
	"fmt"
	"maps"
	"slices"

	"github.com/nyaruka/phonenumbers"
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
