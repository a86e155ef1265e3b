package normalize

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone returns the number in E.164 form ("+491711234567"). A number
// written without an international prefix is read as a number of region
// (ISO 3166-1 alpha-2, e.g. "DE"). A number that is not valid for its
// country, by libphonenumber's metadata, is not ok. Plain numbers are
// decided directly (fastPhone); the results of the slow full parse, which
// the rest take, are cached.
func Phone(raw, region string) (string, bool) {
	return defaultPhoneCache.Phone(raw, region)
}

// PhoneKey is Phone for matching: a number written with an extension
// ("+49 30 901820 ext. 12") keeps it, as "+4930901820;ext=12" (RFC 3966's
// form), so colleagues behind one switchboard number do not match as one
// person. A number without an extension is Phone's E.164.
func PhoneKey(raw, region string) (string, bool) {
	e164, ext, ok := defaultPhoneCache.parse(raw, region)
	if ext != "" {
		e164 += ";ext=" + ext
	}
	return e164, ok
}

// parsePhone is Phone without the cache. Plain numbers take fastPhone,
// which gives the full parse's result at a fraction of its cost.
func parsePhone(raw, region string) (string, bool) {
	return (*PhoneCache)(nil).Phone(raw, region)
}

// fullParsePhone runs libphonenumber's parser on a trimmed, bounded s
// and an upper-case region. It decides every input fastPhone declines,
// and is the only one to see extensions: fastPhone declines them.
func fullParsePhone(s, region string) phoneResult {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return phoneResult{}
	}
	return phoneResult{e164: phonenumbers.Format(num, phonenumbers.E164), ext: num.GetExtension(), ok: true}
}

// PhoneNational splits an E.164 number into its country calling code and
// national significant number. ok is false when e164 does not start with
// "+" and a known calling code.
func PhoneNational(e164 string) (cc int, national string, ok bool) {
	callingCodesOnce.Do(loadCallingCodes)
	if !strings.HasPrefix(e164, "+") {
		return 0, "", false
	}
	d := e164[1:]
	// Calling codes are prefix-free, so the first match is the only one.
	for n := 1; n <= phonenumbers.MAX_LENGTH_COUNTRY_CODE && n <= len(d); n++ {
		c, err := strconv.Atoi(d[:n])
		if err == nil && callingCodes[c] {
			return c, d[n:], true
		}
	}
	return 0, "", false
}

var (
	callingCodesOnce sync.Once
	callingCodes     map[int]bool
)

func loadCallingCodes() {
	callingCodes = map[int]bool{}
	for r := range phonenumbers.GetSupportedRegions() {
		callingCodes[phonenumbers.GetCountryCodeForRegion(r)] = true
	}
	for c := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		callingCodes[c] = true
	}
}

// defaultPhoneCache is small: it holds only numbers that fastPhone
// declines, which are rare in most data, and a cache of every such number
// a build meets would be map the garbage collector scans on every cycle.
// Numbers recur close together (a customer's records), and those it
// keeps.
var defaultPhoneCache = NewPhoneCache(1 << 14)

// PhoneCache remembers the results of the full parse, for the numbers
// fastPhone cannot decide, per (region, trimmed number); a plain number
// decides faster than a look-up (0.4 against 1 µs a number, measured on
// a 1 M-record build's phones). A nil cache, or one of size 0, caches
// nothing. It is bounded and safe for concurrent use. Each shard keeps two generations: when the
// current one is full it becomes the old one and the previous old one is
// dropped, so recently used entries survive at the cost of at most twice
// the size.
type PhoneCache struct {
	seed   maphash.Seed
	shards [phoneShards]phoneShard
	limit  int // entries per generation per shard
}

const phoneShards = 16

type phoneKey struct{ region, raw string }

type phoneResult struct {
	e164, ext string
	ok        bool
}

type phoneShard struct {
	mu       sync.Mutex
	cur, old map[phoneKey]phoneResult
}

// NewPhoneCache returns a cache that keeps at least size recent results
// and at most about twice that many.
func NewPhoneCache(size int) *PhoneCache {
	c := &PhoneCache{seed: maphash.MakeSeed()}
	if size <= 0 {
		return c
	}
	c.limit = max(1, size/phoneShards)
	for i := range c.shards {
		c.shards[i].cur = map[phoneKey]phoneResult{}
	}
	return c
}

// Phone is the package-level Phone with this cache.
func (c *PhoneCache) Phone(raw, region string) (string, bool) {
	e164, _, ok := c.parse(raw, region)
	return e164, ok
}

// parse returns the number in E.164 form and its extension, if any.
func (c *PhoneCache) parse(raw, region string) (e164, ext string, ok bool) {
	s := strings.TrimSpace(raw)
	if s == "" || len(s) > phonenumbers.MAX_INPUT_STRING_LENGTH {
		return "", "", false
	}
	region = strings.ToUpper(region)
	if e164, ok, decided := fastPhone(s, region); decided {
		return e164, "", ok
	}
	if c == nil || c.limit == 0 {
		r := fullParsePhone(s, region)
		return r.e164, r.ext, r.ok
	}
	k := phoneKey{region, s}
	sh := &c.shards[maphash.String(c.seed, s)%phoneShards]
	sh.mu.Lock()
	r, hit := sh.cur[k]
	if !hit {
		if r, hit = sh.old[k]; hit {
			sh.put(k, r, c.limit)
		}
	}
	sh.mu.Unlock()
	if hit {
		return r.e164, r.ext, r.ok
	}
	// Parse outside the lock; a concurrent miss on the same key parses
	// twice and stores the same result.
	r = fullParsePhone(s, region)
	k = phoneKey{region, strings.Clone(s)}
	sh.mu.Lock()
	sh.put(k, r, c.limit)
	sh.mu.Unlock()
	return r.e164, r.ext, r.ok
}

func (sh *phoneShard) put(k phoneKey, r phoneResult, limit int) {
	if len(sh.cur) >= limit {
		sh.old, sh.cur = sh.cur, make(map[phoneKey]phoneResult, limit)
	}
	sh.cur[k] = r
}
