package identity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/desilo/desilo/core/normalize"
)

// Key is a match key: records sharing one of its normalized values link.
type Key struct {
	// Name identifies the key in links and reports. "ref" and "anchor"
	// are reserved.
	Name string
	// Field is the record field the key reads; it defaults to Name.
	Field string
	// Composite lists the fields of a composite key instead of Field. A
	// record has a value only when every part has one; the value is the
	// normalized parts joined with "|" (a "|" or "\\" in a part escaped
	// with "\\"). Parts holding several values give
	// every combination, at most 16.
	Composite []string
	// Normalize names the normalizer (see normalize.ByName), for a
	// composite key that of every part. When empty it follows the field
	// name: *email* → email, *phone*/*mobile* → phone, *date*/*dob* →
	// date, *postal_code*/*zip* → postal_code, *country* → country,
	// *name → name, anything else → lower.
	Normalize string
	// MaxRecordsPerValue: a value held by more customer records (by more
	// records, when no customer record holds it) links nothing and is
	// reported. 0 means no limit.
	MaxRecordsPerValue int
	// Blocklist holds values that link nothing, compared after
	// normalization (for a composite key, against each part).
	Blocklist []string
	// UseDefaultBlocklist adds the shipped placeholder and role values:
	// see Placeholder.
	UseDefaultBlocklist bool
	// EmailStripDots and EmailStripPlus switch the provider rules of the
	// email normalizer (normalize.EmailOptions).
	EmailStripDots, EmailStripPlus bool
	// LimitOnly keys link nothing: their values only count for the key's
	// Limit ("at most one CRM contact id" without matching by that id).
	LimitOnly bool
}

// Limit caps the distinct values of one key that a customer may hold
// ("at most one CRM contact id"). A union that would break it is refused.
// Values that link nothing (blocklisted, too common) do not count; a
// single record holding more values than allowed is kept as it is, and
// joins records that add none.
type Limit struct {
	// ID names the limited key (see Key.LimitOnly for a limit on a field
	// no key matches by).
	ID             string
	MaxPerCustomer int
}

// Rules configure matching.
type Rules struct {
	// Keys, strongest first: earlier keys win when a limit forces a
	// choice.
	Keys   []Key
	Limits []Limit
	// DefaultRegion is the ISO 3166-1 alpha-2 region of phone numbers
	// written without an international prefix.
	DefaultRegion string
}

// Reserved link names.
const (
	RefKey    = "ref"
	AnchorKey = "anchor"
)

const maxCombinations = 16

// compiledKey is a Key ready to extract values.
type compiledKey struct {
	name      string
	fields    []string         // one field, or a composite's parts
	at        []int            // per field: its position in Index.Fields
	norms     []normalize.Func // per field
	normNames []string         // per field
	maxPer    int
	block     map[string]bool // explicit blocklist, normalized
	defaults  bool
	limit     int  // MaxPerCustomer, 0 when the key is not limited
	limitOnly bool // Key.LimitOnly
	keepsCase bool // a field's normalizer is none
}

func compile(r Rules) ([]compiledKey, error) {
	// Index 0 is the ref rule; its values are written by Index.Add.
	keys := []compiledKey{{name: RefKey}}
	byName := map[string]int{}
	for i, k := range r.Keys {
		ck, err := compileKey(k, r.DefaultRegion)
		if err != nil {
			return nil, fmt.Errorf("identity key %d (%q): %w", i+1, k.Name, err)
		}
		if _, dup := byName[k.Name]; dup {
			return nil, fmt.Errorf("identity key %d: name %q is used twice", i+1, k.Name)
		}
		byName[k.Name] = len(keys)
		keys = append(keys, ck)
	}
	for i, l := range r.Limits {
		k, ok := byName[l.ID]
		if !ok {
			return nil, fmt.Errorf("identity limit %d: %q names no key (keys: %s)", i+1, l.ID, keyNames(r.Keys))
		}
		if l.MaxPerCustomer < 1 {
			return nil, fmt.Errorf("identity limit %d (%q): max_per_customer must be at least 1, not %d", i+1, l.ID, l.MaxPerCustomer)
		}
		if keys[k].limit != 0 {
			return nil, fmt.Errorf("identity limit %d: key %q is limited twice", i+1, l.ID)
		}
		keys[k].limit = l.MaxPerCustomer
	}
	return keys, nil
}

// fieldsOf lists the fields the keys read, each once, in the order the
// keys name them, and sets each key's positions into that list.
func fieldsOf(keys []compiledKey) []string {
	var out []string
	for k := range keys {
		key := &keys[k]
		key.at = make([]int, len(key.fields))
		for i, f := range key.fields {
			j := slices.Index(out, f)
			if j < 0 {
				j = len(out)
				out = append(out, f)
			}
			key.at[i] = j
		}
	}
	return out
}

func keyNames(ks []Key) string {
	n := make([]string, len(ks))
	for i, k := range ks {
		n[i] = k.Name
	}
	return strings.Join(n, ", ")
}

func compileKey(k Key, region string) (compiledKey, error) {
	switch k.Name {
	case "":
		return compiledKey{}, fmt.Errorf("a key needs a name")
	case RefKey, AnchorKey:
		return compiledKey{}, fmt.Errorf("the name %q is reserved", k.Name)
	}
	if k.MaxRecordsPerValue < 0 {
		return compiledKey{}, fmt.Errorf("max_records_per_value must not be negative")
	}
	fields := []string{k.Field}
	switch {
	case len(k.Composite) > 0 && k.Field != "":
		return compiledKey{}, fmt.Errorf("set field or composite, not both")
	case len(k.Composite) == 1:
		return compiledKey{}, fmt.Errorf("a composite key needs at least two fields")
	case len(k.Composite) > 1:
		fields = k.Composite
	case k.Field == "":
		fields = []string{k.Name}
	}
	ck := compiledKey{name: k.Name, fields: fields, maxPer: k.MaxRecordsPerValue, defaults: k.UseDefaultBlocklist, limitOnly: k.LimitOnly}
	opt := normalize.Options{
		DefaultRegion: region,
		Email:         normalize.EmailOptions{StripDots: k.EmailStripDots, StripPlus: k.EmailStripPlus},
	}
	for _, f := range fields {
		if f == "" {
			return compiledKey{}, fmt.Errorf("empty field name")
		}
		name := k.Normalize
		if name == "" {
			name = DefaultNormalizer(f)
		}
		fn, err := normalize.ByName(name, opt)
		if err != nil {
			return compiledKey{}, fmt.Errorf("field %q: %w", f, err)
		}
		ck.norms = append(ck.norms, fn)
		ck.normNames = append(ck.normNames, name)
		ck.keepsCase = ck.keepsCase || name == "none"
	}
	if len(k.Blocklist) > 0 {
		ck.block = map[string]bool{}
		for _, v := range k.Blocklist {
			ck.block[strings.ToLower(strings.TrimSpace(v))] = true
			for _, fn := range ck.norms {
				if n, ok := fn(v); ok {
					ck.block[n] = true
				}
			}
		}
	}
	return ck, nil
}

// DefaultNormalizer is the normalizer a key uses for field when it names
// none: normalize.ForField.
func DefaultNormalizer(field string) string { return normalize.ForField(field) }

// flag is flagBlocked when a value of the key (parts: its normalized
// parts) links nothing because of a blocklist.
func (k *compiledKey) flag(whole string, parts []string) byte {
	if k.blocked(whole, parts) {
		return flagBlocked
	}
	return 0
}

func (k *compiledKey) blocked(whole string, parts []string) bool {
	if k.block[whole] {
		return true
	}
	// Entries are listed in any case; a value the key keeps as written
	// (normalizer none) is compared lowercased too.
	if k.keepsCase && len(k.block) > 0 && k.block[strings.ToLower(whole)] {
		return true
	}
	for i, p := range parts {
		if len(parts) > 1 && k.block[p] {
			return true
		}
		if k.defaults && Placeholder(k.normNames[i], p) {
			return true
		}
	}
	return false
}
